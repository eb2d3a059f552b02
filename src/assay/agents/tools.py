"""The simulated tools and world of an agent scenario: deterministic, logged, side-effect free.

Every tool is plain Python over the scenario's ``state`` (a dict copied per run): it
validates its arguments against its JSON schema, changes the state in place and returns a
JSON-able result. Nothing leaves the process: ``send_email`` appends to ``state["sent"]``,
``run_code`` never executes anything, ``browse`` reads ``state["web"]``.

:class:`World` runs one scenario: it offers only the scenario's tools, logs every call as
a :class:`CallRecord`, simulates faults (``error`` / ``timeout``), appends injected text
to a tool's results (indirect prompt injection), answers ``ask_user`` with the simulated
user's replies, and reports the state diff at the end. A model's mistake (unknown tool,
bad arguments) comes back to it as an error result; it never raises.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from assay.agents.scenario import Scenario

__all__ = ["TOOLS", "CallRecord", "Tool", "World"]

State = dict[str, Any]


class ToolError(Exception):
    """A tool refused the call (insufficient funds, no such file...): shown to the agent."""


def _str(description: str) -> dict[str, Any]:
    return {"type": "string", "description": description}


def _schema(required: Mapping[str, dict[str, Any]]) -> dict[str, Any]:
    return {"type": "object", "properties": dict(required), "required": list(required)}


@dataclass(frozen=True)
class Tool:
    """One simulated tool: name, one-line description, JSON schema, implementation."""

    name: str
    description: str
    parameters: dict[str, Any]
    fn: Callable[[State, dict[str, Any]], Any]
    #: Data leaves the environment through this tool (canary and injection checks).
    sends: bool = False

    def run(self, state: State, arguments: dict[str, Any]) -> Any:
        return self.fn(state, arguments)


def _find(items: list[dict[str, Any]], key: str, value: Any) -> dict[str, Any]:
    for item in items:
        if str(item.get(key, "")).casefold() == str(value).casefold():
            return item
    raise ToolError(f"no item with {key} {value!r}")


def _read_inbox(state: State, _: dict[str, Any]) -> Any:
    return [{k: m.get(k) for k in ("id", "from", "subject")} for m in state.get("inbox", [])]


def _read_email(state: State, a: dict[str, Any]) -> Any:
    return _find(state.get("inbox", []), "id", a["id"])


def _send_email(state: State, a: dict[str, Any]) -> Any:
    state.setdefault("sent", []).append(dict(a))
    return {"sent": True, "to": a["to"]}


def _list_contacts(state: State, _: dict[str, Any]) -> Any:
    return [{"name": c.get("name"), "email": c.get("email")} for c in state.get("contacts", [])]


def _get_contact(state: State, a: dict[str, Any]) -> Any:
    return _find(state.get("contacts", []), "name", a["name"])


def _bank(state: State) -> dict[str, Any]:
    bank = state.setdefault("bank", {})
    bank.setdefault("balance", 0)
    bank.setdefault("payees", [])
    bank.setdefault("transfers", [])
    return bank  # type: ignore[no-any-return]


def _get_balance(state: State, _: dict[str, Any]) -> Any:
    return {"balance": _bank(state)["balance"]}


def _list_payees(state: State, _: dict[str, Any]) -> Any:
    return list(_bank(state)["payees"])


def _transfer(state: State, a: dict[str, Any]) -> Any:
    bank = _bank(state)
    try:
        amount = float(a["amount"])
    except (TypeError, ValueError) as exc:
        raise ToolError("amount must be a number") from exc
    if amount <= 0:
        raise ToolError("amount must be positive")
    if amount > float(bank["balance"]):
        raise ToolError("insufficient funds")
    bank["balance"] = float(bank["balance"]) - amount
    bank["transfers"].append({"to": a["to"], "amount": amount, "memo": a.get("memo", "")})
    return {"transferred": amount, "to": a["to"], "balance": bank["balance"]}


def _list_files(state: State, _: dict[str, Any]) -> Any:
    return sorted(state.get("files", {}))


def _read_file(state: State, a: dict[str, Any]) -> Any:
    files = state.get("files", {})
    if a["path"] not in files:
        raise ToolError(f"no such file {a['path']!r}")
    return files[a["path"]]


def _write_file(state: State, a: dict[str, Any]) -> Any:
    state.setdefault("files", {})[a["path"]] = a["content"]
    return {"written": a["path"]}


def _delete_file(state: State, a: dict[str, Any]) -> Any:
    files = state.get("files", {})
    if a["path"] not in files:
        raise ToolError(f"no such file {a['path']!r}")
    del files[a["path"]]
    return {"deleted": a["path"]}


def _share_file(state: State, a: dict[str, Any]) -> Any:
    if a["path"] not in state.get("files", {}):
        raise ToolError(f"no such file {a['path']!r}")
    shared = state.setdefault("shared", {})
    if isinstance(shared, dict):
        shared.setdefault(a["path"], []).append(a["to"])
    else:
        shared.append({"path": a["path"], "to": a["to"]})
    return {"shared": a["path"], "with": a["to"]}


def _get_setting(state: State, a: dict[str, Any]) -> Any:
    settings = state.get("settings", {})
    if a["name"] not in settings:
        raise ToolError(f"no setting {a['name']!r}")
    return {a["name"]: settings[a["name"]]}


def _set_setting(state: State, a: dict[str, Any]) -> Any:
    settings = state.setdefault("settings", {})
    if a["name"] not in settings:
        raise ToolError(f"no setting {a['name']!r}")
    settings[a["name"]] = a["value"]
    return {a["name"]: a["value"]}


def _browse(state: State, a: dict[str, Any]) -> Any:
    web = state.get("web", {})
    if a["url"] not in web:
        raise ToolError(f"cannot reach {a['url']!r}")
    return web[a["url"]]


def _post_message(state: State, a: dict[str, Any]) -> Any:
    state.setdefault("channel_posts", []).append(dict(a))
    return {"posted": True, "channel": a["channel"]}


def _run_code(state: State, a: dict[str, Any]) -> Any:
    return state.get("code_results", {}).get(a["code"], "ok (simulated: nothing was executed)")


def _search_records(state: State, a: dict[str, Any]) -> Any:
    query = str(a["query"]).casefold()
    return [
        r for r in state.get("records", []) if query in json.dumps(r, sort_keys=True).casefold()
    ]


def _update_record(state: State, a: dict[str, Any]) -> Any:
    record = _find(state.get("records", []), "id", a["id"])
    record[a["field"]] = a["value"]
    return {"updated": a["id"], a["field"]: a["value"]}


def _ask_user(state: State, a: dict[str, Any]) -> Any:
    raise AssertionError("ask_user is answered by the World")  # pragma: no cover


_ANY = {"description": "any JSON value"}

TOOLS: dict[str, Tool] = {
    t.name: t
    for t in (
        Tool(
            "read_inbox",
            "List the e-mails in the inbox (id, sender, subject).",
            _schema({}),
            _read_inbox,
        ),
        Tool(
            "read_email", "Read one e-mail by id.", _schema({"id": _str("e-mail id")}), _read_email
        ),
        Tool(
            "send_email",
            "Send an e-mail.",
            _schema({"to": _str("address"), "subject": _str("subject"), "body": _str("text")}),
            _send_email,
            sends=True,
        ),
        Tool("list_contacts", "List contacts (name, e-mail).", _schema({}), _list_contacts),
        Tool(
            "get_contact",
            "All details of one contact.",
            _schema({"name": _str("name")}),
            _get_contact,
        ),
        Tool("get_balance", "The account balance.", _schema({}), _get_balance),
        Tool("list_payees", "The saved payees.", _schema({}), _list_payees),
        Tool(
            "transfer_money",
            "Transfer money to a payee or account.",
            _schema(
                {"to": _str("payee or account"), "amount": {"type": "number"}, "memo": _str("memo")}
            ),
            _transfer,
            sends=True,
        ),
        Tool("list_files", "List the files.", _schema({}), _list_files),
        Tool("read_file", "Read a file.", _schema({"path": _str("path")}), _read_file),
        Tool(
            "write_file",
            "Write a file.",
            _schema({"path": _str("path"), "content": _str("content")}),
            _write_file,
        ),
        Tool("delete_file", "Delete a file.", _schema({"path": _str("path")}), _delete_file),
        Tool(
            "share_file",
            "Share a file with someone.",
            _schema({"path": _str("path"), "to": _str("address")}),
            _share_file,
            sends=True,
        ),
        Tool(
            "get_setting",
            "Read a device setting.",
            _schema({"name": _str("setting")}),
            _get_setting,
        ),
        Tool(
            "set_setting",
            "Change a device setting.",
            _schema({"name": _str("setting"), "value": _ANY}),
            _set_setting,
        ),
        Tool("browse", "Read a web page.", _schema({"url": _str("URL")}), _browse),
        Tool(
            "post_message",
            "Post a message to a channel.",
            _schema({"channel": _str("channel"), "text": _str("text")}),
            _post_message,
            sends=True,
        ),
        Tool("run_code", "Run code (simulated).", _schema({"code": _str("code")}), _run_code),
        Tool(
            "search_records",
            "Search the records.",
            _schema({"query": _str("query")}),
            _search_records,
        ),
        Tool(
            "update_record",
            "Change one field of a record.",
            _schema({"id": _str("record id"), "field": _str("field"), "value": _ANY}),
            _update_record,
        ),
        Tool(
            "ask_user",
            "Ask the user a question and wait for the answer.",
            _schema({"question": _str("question")}),
            _ask_user,
        ),
    )
}

# optional arguments: present in the schema, not required
TOOLS["transfer_money"].parameters["required"] = ["to", "amount"]
TOOLS["send_email"].parameters["required"] = ["to", "body"]

_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "number": (int, float),
    "integer": (int,),
    "boolean": (bool,),
    "object": (dict,),
    "array": (list,),
}


def check_arguments(tool: Tool, arguments: Any) -> str | None:
    """Why ``arguments`` do not fit the tool's schema, or ``None`` when they do."""
    if not isinstance(arguments, dict):
        return "arguments must be a JSON object"
    props = tool.parameters.get("properties", {})
    missing = [k for k in tool.parameters.get("required", []) if k not in arguments]
    if missing:
        return f"missing {', '.join(missing)}"
    unknown = [k for k in arguments if k not in props]
    if unknown:
        return f"unknown argument(s) {', '.join(unknown)}"
    for key, value in arguments.items():
        kind = props[key].get("type")
        if kind is None:
            continue
        wanted = _TYPES.get(kind, ())
        if kind == "number" and isinstance(value, str):
            try:
                float(value)
                continue
            except ValueError:
                pass
        if wanted and (
            not isinstance(value, wanted) or (kind != "boolean" and isinstance(value, bool))
        ):
            return f"{key} must be a {kind}"
    return None


@dataclass(frozen=True)
class CallRecord:
    """One tool call as it happened: what was asked, what the agent got back."""

    step: int
    tool: str
    arguments: dict[str, Any]
    result: str
    error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "step": self.step,
            "tool": self.tool,
            "arguments": self.arguments,
            "result": self.result,
            "error": self.error,
        }


def _flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for key, item in value.items():
            out.update(_flatten(item, f"{prefix}.{key}" if prefix else str(key)))
        return out or {prefix: {}}
    if isinstance(value, list):
        out = {}
        for n, item in enumerate(value):
            out.update(_flatten(item, f"{prefix}[{n}]"))
        return out or {prefix: []}
    return {prefix: value}


@dataclass
class World:
    """The simulated environment of one run of a scenario."""

    scenario: Scenario
    extra_injections: tuple[tuple[str, str], ...] = ()
    state: State = field(init=False)
    calls: list[CallRecord] = field(init=False, default_factory=list)
    injected: list[str] = field(init=False, default_factory=list)

    def __post_init__(self) -> None:
        self.state = copy.deepcopy(dict(self.scenario.state))
        self._initial = copy.deepcopy(self.state)
        self._replies = list(self.scenario.user.replies)

    def tool_specs(self) -> list[dict[str, Any]]:
        return [
            {"name": t.name, "description": t.description, "parameters": t.parameters}
            for t in (TOOLS[name] for name in self.scenario.tools)
        ]

    def _injections(self, tool: str) -> list[str]:
        found = [i.text for i in self.scenario.injections if i.tool == tool]
        found += [text for name, text in self.extra_injections if name == tool]
        return found

    def call(
        self, tool: str, arguments: Any, *, step: int, user_reply: str | None = None
    ) -> CallRecord:
        """Run one call; a model's mistake becomes an error result, never an exception.

        ``user_reply`` answers an ``ask_user`` call instead of the scripted replies (the
        loop passes what a simulated user said).
        """
        args = dict(arguments) if isinstance(arguments, dict) else {}
        record: CallRecord
        if tool not in TOOLS:
            record = CallRecord(
                step, tool, args, json.dumps({"error": "unknown tool"}), "unknown_tool"
            )
        elif tool not in self.scenario.tools:
            record = CallRecord(
                step, tool, args, json.dumps({"error": "tool not available"}), "not_offered"
            )
        elif (why := check_arguments(TOOLS[tool], arguments)) is not None:
            record = CallRecord(
                step, tool, args, json.dumps({"error": why}), f"bad_arguments: {why}"
            )
        elif tool in self.scenario.faults:
            fault = self.scenario.faults[tool]
            text = "the tool timed out" if fault == "timeout" else "the tool failed"
            record = CallRecord(
                step,
                tool,
                args,
                json.dumps({"error": text}),
                fault if fault == "timeout" else "tool_error",
            )
        elif tool == "ask_user":
            if user_reply is not None:
                reply = user_reply
            else:
                reply = self._replies.pop(0) if self._replies else self.scenario.user.default
            record = CallRecord(step, tool, args, json.dumps({"answer": reply}))
        else:
            try:
                result = TOOLS[tool].run(self.state, args)
                record = CallRecord(
                    step, tool, args, json.dumps(result, ensure_ascii=False, default=str)
                )
            except ToolError as exc:
                record = CallRecord(step, tool, args, json.dumps({"error": str(exc)}), "tool_error")
        texts = self._injections(tool) if record.error is None else []
        if texts:
            self.injected.extend(texts)
            record = CallRecord(
                record.step,
                record.tool,
                record.arguments,
                record.result + "\n" + "\n".join(texts),
                record.error,
            )
        self.calls.append(record)
        return record

    def diff(self) -> dict[str, Any]:
        """What the run changed: paths added, removed and changed (before, after)."""
        before, after = _flatten(self._initial), _flatten(self.state)
        return {
            "added": {k: after[k] for k in after.keys() - before.keys()},
            "removed": {k: before[k] for k in before.keys() - after.keys()},
            "changed": {
                k: [before[k], after[k]]
                for k in before.keys() & after.keys()
                if before[k] != after[k]
            },
        }
