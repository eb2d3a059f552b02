"""``assay guard check|calibrate|feedback`` (and ``serve``, wired by the service).

Exit codes of ``assay guard check`` (with or without ``--json``), so scripts can branch:
0 allow, 3 block, 4 abstain; 2 bad input, as everywhere in assay.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from assay.errors import InputError

guard_app = typer.Typer(
    name="guard",
    help="The run-time guard: check texts, calibrate a policy, send reviewer feedback.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
#: The group, under the name the lead's wiring expects.
app = guard_app

#: ``assay guard check`` exit codes per decision.
EXIT_CODES = {"allow": 0, "block": 3, "abstain": 4}

PolicyOption = Annotated[
    Path | None,
    typer.Option("--policy", "-p", help="Policy file (.yaml/.json); default: the shipped one."),
]


def _policy(path: Path | None) -> Any:
    from assay.guard.policy import Policy

    return Policy.load(path) if path is not None else Policy.default()


@guard_app.command("check")
def check_command(
    text: Annotated[str, typer.Argument(help="The text to check.")],
    policy: PolicyOption = None,
    config: Annotated[
        str | None, typer.Option("--config", "-c", help="Safety config (CoSA) name.")
    ] = None,
    calibration: Annotated[
        Path | None,
        typer.Option(help="Calibration artifact; default: the policy's own, if any."),
    ] = None,
    role: Annotated[str, typer.Option(help="Role of the text: user, assistant or tool.")] = "user",
    prompt: Annotated[
        str | None,
        typer.Option(help="With --role assistant: the user turn it answers (context)."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the decision as JSON.")] = False,
) -> None:
    """Check one text; exit 0 allow, 3 block, 4 abstain (also with --json)."""
    from assay.guard.guard import Guard
    from assay.guard.types import CheckRequest, GuardMessage

    if role not in ("user", "assistant", "tool"):
        raise InputError(f"must be user, assistant or tool, not {role!r}", field="--role")
    if prompt is not None and role != "assistant":
        raise InputError("--prompt is the context of an assistant turn", field="--prompt")
    guard = Guard.from_files(policy=policy, calibration=calibration)
    messages = []
    if prompt is not None:
        messages.append(GuardMessage(role="user", content=prompt))
    messages.append(GuardMessage(role=role, content=text))
    request = CheckRequest(messages=tuple(messages), config=config)
    try:
        (decision,) = asyncio.run(guard.check([request]))
    finally:
        guard.close()
    if as_json:
        typer.echo(decision.model_dump_json())
    else:
        console = Console()
        style = {"allow": "green", "block": "bold red", "abstain": "yellow"}[decision.decision]
        hazards = ", ".join(decision.hazards) or "-"
        console.print(
            f"[{style}]{decision.decision}[/]  hazards: {hazards}  "
            f"p(unsafe): {decision.scores.get('unsafe', float('nan')):.3f}  "
            f"config: {decision.config}",
            highlight=False,
        )
        console.print(f"reason: {decision.reason}", highlight=False, soft_wrap=True)
        if decision.judge_error:
            console.print(f"judge error: {decision.judge_error}", highlight=False)
        console.print(
            f"policy {decision.policy_id}, calibration {decision.calibration_id or 'none'}, "
            f"decision id {decision.id}",
            style="dim",
            highlight=False,
            soft_wrap=True,
        )
    code = EXIT_CODES[decision.decision]
    if code:
        raise typer.Exit(code)


def _pct(value: Any) -> str:
    return "n/a" if value is None else f"{100.0 * float(value):.1f}%"


@guard_app.command("calibrate")
def calibrate_command(
    data: Annotated[
        Path, typer.Option("--data", "-d", help="Labelled .jsonl/.csv: text, label, [hazard].")
    ],
    out: Annotated[Path, typer.Option("--out", "-o", help="Where to write the artifact.")],
    policy: PolicyOption = None,
    alpha: Annotated[float, typer.Option(help="Miscoverage level (sets mode).")] = 0.1,
    method: Annotated[str, typer.Option(help="Conformal score: lac or aps.")] = "lac",
    mode: Annotated[str, typer.Option(help="sets (conformal) or risk (Learn-then-Test).")] = "sets",
    risk: Annotated[
        float | None, typer.Option(help="Risk mode: bound on the unsafe-allowed rate.")
    ] = None,
    risk_over: Annotated[
        str, typer.Option(help="Risk denominator: unsafe (miss rate) or all rows.")
    ] = "unsafe",
    block_risk: Annotated[
        float | None, typer.Option(help="Risk mode: bound on the safe-blocked rate.")
    ] = None,
    delta: Annotated[float, typer.Option(help="Risk mode: 1 - confidence.")] = 0.1,
    holdout: Annotated[float, typer.Option(help="Fraction held out for measuring.")] = 0.3,
    seed: Annotated[int, typer.Option(help="Split seed.")] = 0,
    abstain_rate: Annotated[
        float | None, typer.Option(help="Sets mode: target abstention rate (label-free).")
    ] = None,
    selective_risk: Annotated[
        float | None, typer.Option(help="Sets mode: target selective risk (label-free).")
    ] = None,
    per_label: Annotated[bool, typer.Option(help="Class-conditional (Mondrian) quantiles.")] = True,
    randomized: Annotated[
        bool, typer.Option(help="APS: randomised (u from a hash of each text).")
    ] = True,
) -> None:
    """Calibrate the policy's judge on labelled data; print the held-out figures."""
    from assay.guard.calibrate import calibrate
    from assay.guard.conformal import summary

    if method not in ("lac", "aps"):
        raise InputError(f"must be lac or aps, not {method!r}", field="--method")
    if mode not in ("sets", "risk"):
        raise InputError(f"must be sets or risk, not {mode!r}", field="--mode")
    if risk_over not in ("unsafe", "all"):
        raise InputError(f"must be unsafe or all, not {risk_over!r}", field="--risk-over")
    pol = _policy(policy)
    artifact = calibrate(
        pol,
        data,
        alpha=alpha,
        method=method,
        mode=mode,
        risk=risk,
        risk_over=risk_over,
        block_risk=block_risk,
        delta=delta,
        holdout=holdout,
        seed=seed,
        abstain_rate=abstain_rate,
        selective_risk=selective_risk,
        mondrian=per_label,
        randomized=randomized,
    )
    out.parent.mkdir(parents=True, exist_ok=True)
    artifact.save(out)
    console = Console()
    target = (
        f"alpha {alpha:g} ({method}{', per label' if per_label else ''})"
        if mode == "sets"
        else f"risk {risk:g} over {risk_over} with confidence {1 - delta:g}"
    )
    console.print(
        f"calibration [bold]{artifact.id}[/] of policy {artifact.policy_id} "
        f"(judge {artifact.judge.name} v{artifact.judge.version}) on {artifact.data_path} "
        f"(sha256 {artifact.data_sha256[:12]}): {artifact.n_calibration} calibration, "
        f"{artifact.n_tuning} tuning, {artifact.n_holdout} held-out rows; {target}",
        highlight=False,
        soft_wrap=True,
    )
    m = artifact.heldout
    console.print(
        f"held-out: coverage {_pct(m.get('coverage'))} (safe {_pct(m.get('coverage_safe'))}, "
        f"unsafe {_pct(m.get('coverage_unsafe'))}), abstention {_pct(m.get('abstention_rate'))}, "
        f"selective risk {_pct(m.get('selective_risk'))}, unsafe allowed "
        f"{_pct(m.get('unsafe_allowed_rate'))} of all ({_pct(m.get('miss_rate'))} of unsafe), "
        f"safe blocked {_pct(m.get('safe_blocked_rate'))}",
        highlight=False,
        soft_wrap=True,
    )
    if artifact.risk_thresholds is not None:
        rt = artifact.risk_thresholds
        console.print(
            f"allow below {rt.allow_below:g} ({'certified' if rt.certified else 'NOT certified'}"
            f", {rt.k}/{rt.n} unsafe allowed on calibration, p={rt.p_value:.3g}); "
            f"block at {rt.block_at:g}",
            highlight=False,
        )
    if artifact.per_hazard:
        console.print(f"per-hazard quantiles: {', '.join(sorted(artifact.per_hazard))}")
    if artifact.fallbacks:
        console.print(
            f"global quantiles used for: {', '.join(sorted(artifact.fallbacks))} "
            "(too few rows; see the artifact's fallbacks)",
            style="dim",
            highlight=False,
        )
    console.print(f"wrote {out}  ({summary(m)})", style="dim", highlight=False, soft_wrap=True)


@guard_app.command("feedback")
def feedback_command(
    db: Annotated[Path, typer.Option(help="SQLite store the guard uses (--store of serve).")],
    decision: Annotated[
        str | None, typer.Option("--decision", help="Decision id to label.")
    ] = None,
    label: Annotated[str | None, typer.Option(help="The reviewer's label: safe or unsafe.")] = None,
    policy: PolicyOption = None,
    reviewer: Annotated[str, typer.Option(help="Who reviewed.")] = "",
    note: Annotated[str, typer.Option(help="Free text.")] = "",
    show: Annotated[
        bool, typer.Option("--show", help="Print the ensemble weight history.")
    ] = False,
) -> None:
    """Label a decision (updates a weighted ensemble's Hedge weights), or --show them."""
    from assay.guard.guard import Guard
    from assay.guard.types import Feedback

    if not show and (decision is None or label is None):
        raise InputError("give --decision and --label (or --show)", field="--decision")
    if label is not None and label not in ("safe", "unsafe"):
        raise InputError(f"must be safe or unsafe, not {label!r}", field="--label")
    if not db.is_file():
        raise InputError("no such store", source=str(db), field="--db")
    guard = Guard(_policy(policy), store_path=str(db))
    console = Console()
    try:
        if decision is not None and label is not None:
            result = guard.feedback(
                Feedback(decision_id=decision, label=label, reviewer=reviewer, note=note)
            )
            if result.get("weights"):
                weights = ", ".join(f"{m}={w:.4f}" for m, w in result["weights"].items())
                console.print(
                    f"label {label} stored for {decision}; ensemble {result['ensemble']} "
                    f"step {result['step']}: {weights}",
                    highlight=False,
                    soft_wrap=True,
                )
            else:
                console.print(
                    f"label {label} stored for {decision}; the policy's judge is not a "
                    "weighted ensemble, so no weights changed",
                    highlight=False,
                )
        if show:
            history = guard.weight_history()
            if not history:
                console.print("no ensemble weights: the policy's judge is not an ensemble")
            for entry in history:
                weights = ", ".join(f"{m}={w:.4f}" for m, w in entry["weights"].items())
                console.print(
                    f"step {entry['step']}: {weights}  ({entry['note']})",
                    highlight=False,
                    soft_wrap=True,
                )
    finally:
        guard.close()


@guard_app.command("serve")
def serve_command(
    policy: PolicyOption = None,
    calibration: Annotated[
        Path | None,
        typer.Option(help="Calibration artifact; default: the policy's own, if any."),
    ] = None,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port (0: any free one).", min=0, max=65535)] = 8000,
    keys: Annotated[
        Path | None, typer.Option(help="Hashed API keys file ('assay guard keys add').")
    ] = None,
    no_auth: Annotated[
        bool, typer.Option(help="Serve without API keys (a private network only).")
    ] = False,
    upstream: Annotated[
        str | None,
        typer.Option(help="OpenAI-compatible model behind /v1/chat/completions (…/v1)."),
    ] = None,
    upstream_key_env: Annotated[
        str, typer.Option(help="Environment variable with the upstream's API key.")
    ] = "ASSAY_UPSTREAM_KEY",
    store: Annotated[
        Path | None, typer.Option(help="SQLite store for reviewer labels and learned weights.")
    ] = None,
    audit: Annotated[
        Path | None, typer.Option(help="SQLite audit log of decisions (hashes, not text).")
    ] = None,
    audit_text: Annotated[
        bool, typer.Option(help="Also keep the checked texts in the audit log.")
    ] = False,
    rate: Annotated[
        float, typer.Option(help="Requests per second per key (token bucket).", min=0.001)
    ] = 50.0,
    burst: Annotated[int, typer.Option(help="Token bucket size per key.", min=1)] = 100,
    no_rate_limit: Annotated[bool, typer.Option(help="No per-key rate limit.")] = False,
    on_abstain: Annotated[
        str, typer.Option(help="What the proxy does with an abstention: block or allow.")
    ] = "block",
    max_body: Annotated[
        int, typer.Option(help="Largest request body in bytes (413 above).", min=1)
    ] = 64 * 1024,
    batch_wait_ms: Annotated[
        float, typer.Option(help="How long a check waits for others to share its batch.", min=0)
    ] = 2.0,
    max_batch: Annotated[int, typer.Option(help="Most checks per judge call.", min=1)] = 64,
) -> None:
    """Serve the guard over HTTP: moderations, guard/check, a guarded chat proxy."""
    import os

    from assay.guard.guard import Guard
    from assay.guard.serve import ServeSettings, serve
    from assay.guard.service import ServiceSettings

    if not no_auth and keys is None:
        raise InputError(
            "give --keys FILE (see 'assay guard keys add') or --no-auth", field="--keys"
        )
    if keys is not None and not keys.is_file():
        raise InputError("no such keys file", source=str(keys), field="--keys")
    if on_abstain not in ("block", "allow"):
        raise InputError(f"must be block or allow, not {on_abstain!r}", field="--on-abstain")
    guard = Guard.from_files(
        policy=policy, calibration=calibration, store_path=str(store) if store else None
    )
    # Load the judge before listening: a first request would otherwise wait for the model
    # load, time out and be failed closed.
    import time

    from assay.guard.types import CheckRequest, GuardMessage

    started_at = time.perf_counter()
    warm = CheckRequest(messages=(GuardMessage(role="user", content="Hello, how are you?"),))
    (first,) = asyncio.run(guard.check([warm]))
    if first.judge_error is not None:
        raise InputError(f"the guard's judge does not work: {first.judge_error}", field="--policy")
    typer.echo(f"judge ready in {time.perf_counter() - started_at:.1f} s", err=True)
    upstream_key = os.environ.get(upstream_key_env) if upstream else None
    service: dict[str, Any] = {
        "require_auth": not no_auth,
        "keys_file": keys,
        "rate_per_s": None if no_rate_limit else rate,
        "burst": burst,
        "on_abstain": on_abstain,
        "upstream_url": upstream,
        "upstream_api_key": upstream_key,
        "audit_path": audit,
        "audit_text": audit_text,
        "max_body_bytes": max_body,
        "batch_wait_ms": batch_wait_ms,
        "max_batch": max_batch,
    }
    settings = ServeSettings(host=host, port=port, service=ServiceSettings(**service))

    def started(url: str) -> None:
        typer.echo(
            f"assay guard serving on {url} (policy {guard.policy_id}, "
            f"calibration {guard.calibration_id or 'none'})",
        )

    serve(guard, settings, on_started=started)


keys_app = typer.Typer(help="API keys of the guard service (stored hashed).", no_args_is_help=True)
guard_app.add_typer(keys_app, name="keys")


@keys_app.command("add")
def keys_add_command(
    name: Annotated[str, typer.Argument(help="Who the key is for (shown in the audit log).")],
    file: Annotated[Path, typer.Option("--file", "-f", help="The keys file (created if new).")],
) -> None:
    """Create a key; it is printed once and only its hash is stored."""
    from assay.guard.keys import add_key

    key = add_key(file, name)
    typer.echo(key)
    typer.echo(f"(key {name!r} added to {file}; store it now: it is not kept)", err=True)


def register(main_app: typer.Typer) -> None:
    """Add the ``guard`` command group to ``main_app`` (once)."""
    if any(group.typer_instance is guard_app for group in main_app.registered_groups):
        return
    main_app.add_typer(guard_app, name="guard")
