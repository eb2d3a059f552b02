"""Agent safety: scenarios with simulated tools and users, trajectories, rule judges."""
