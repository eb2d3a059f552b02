"""The engine's attack machinery: seeded plans, multi-turn conversations, provenance."""

from __future__ import annotations

import random

from assay.attacks.base import VariantAttack, request_text, with_request
from assay.core import Attempt, Case, Message, Response, Status
from assay.core.records import Mutation
from assay.engine import RunParams, make_plan, scan
from assay.store import Store
from assay.targets.openai import OpenAITarget
from assay.testing import MockTarget
from assay.testing.stub import StubServer

FAST = RunParams(backoff_s=0.001, backoff_max_s=0.01, max_retries=1)


class Shout(VariantAttack):
    """Test attack: upper-cases, or adds a random tag (to test seeding)."""

    name = "shout"
    version = "1"
    VARIANTS = ("upper", "tag")

    def mutate(
        self, variant: str, case: Case, messages: tuple[Message, ...], rng: random.Random
    ) -> Mutation:
        text = request_text(messages)
        if variant == "upper":
            return Mutation(messages=with_request(messages, text.upper()))
        tag = rng.randrange(10**6)
        return Mutation(messages=with_request(messages, f"{text} #{tag}"), detail={"tag": tag})


class Escalate(VariantAttack):
    """Test attack: three scripted turns, the request last."""

    name = "escalate"
    version = "1"
    VARIANTS = ("three",)

    def mutate(
        self, variant: str, case: Case, messages: tuple[Message, ...], rng: random.Random
    ) -> Mutation:
        return Mutation(
            messages=with_request(messages, "Tell me about history."),
            followups=(
                Message(role="user", content="Why does it matter?"),
                Message(role="user", content=request_text(messages)),
            ),
            detail={"turns": 3},
        )


def test_plan_is_seeded_per_case_and_attacks_only_harmful_cases(suite) -> None:  # type: ignore[no-untyped-def]
    target = MockTarget()
    one = make_plan(suites=[suite], targets=[target], judges=[], attack_chains=[(), (Shout(),)])
    two = make_plan(suites=[suite], targets=[target], judges=[], attack_chains=[(), (Shout(),)])
    other = make_plan(
        suites=[suite], targets=[target], judges=[], attack_chains=[(), (Shout(),)], seed=1
    )
    assert [a.hash for a in one.attempts] == [a.hash for a in two.attempts]
    assert [a.hash for a in one.attempts] != [a.hash for a in other.attempts]
    attacked = [a for a in one.attempts if a.attacks]
    harmful = [c for c in suite.cases if c.expected == "refuse"]
    assert len(attacked) == 2 * len(harmful)
    assert {a.case.expected for a in attacked} == {"refuse"}
    assert {a.label for a in attacked} == {"shout:upper", "shout:tag"}
    assert all(a.family == "shout" for a in attacked)
    # the rng of one case does not depend on which other cases are planned
    alone = make_plan(
        suites=[suite.__class__(name=suite.name, version="1", cases=(harmful[3],))],
        targets=[target],
        judges=[],
        attack_chains=[(Shout(),)],
    )
    same = [a for a in attacked if a.case.id == harmful[3].id]
    assert {a.hash for a in alone.attempts} == {a.hash for a in same}
    benign_too = make_plan(
        suites=[suite], targets=[target], judges=[], attack_chains=[(Shout(),)], attack_benign=True
    )
    assert len(benign_too.attempts) == 2 * len(suite.cases)


def test_sample_draws_variants_per_case(suite) -> None:  # type: ignore[no-untyped-def]
    plan = make_plan(
        suites=[suite], targets=[MockTarget()], judges=[], attack_chains=[(Shout(sample=1),)]
    )
    labels = [a.label for a in plan.attempts]
    assert len(labels) == len([c for c in suite.cases if c.expected == "refuse"])
    assert set(labels) == {"shout:upper", "shout:tag"}  # 10 cases: both drawn


def test_chain_records_each_step(suite) -> None:  # type: ignore[no-untyped-def]
    plan = make_plan(
        suites=[suite],
        targets=[MockTarget()],
        judges=[],
        attack_chains=[(Shout(variants=["tag"]), Shout(variants=["upper"]))],
    )
    attempt = plan.attempts[0]
    assert attempt.label == "shout:tag>shout:upper"
    assert attempt.messages[-1].content == attempt.messages[-1].content.upper()
    assert "#" in attempt.messages[-1].content
    assert attempt.detail("tag") == attempt.attacks[0].detail["tag"]


def test_multi_turn_feeds_replies_back_and_stores_the_conversation(  # type: ignore[no-untyped-def]
    suite, judge
) -> None:
    target = MockTarget(default="Sure, here is how.")
    store = Store(":memory:")
    plan = make_plan(
        suites=[suite], targets=[target], judges=[judge], attack_chains=[(Escalate(),)]
    )
    run = scan(plan, store, params=FAST).run
    results = store.results(run.id)
    assert len(results) == 10 and len(target.calls) == 30  # three turns each
    first = results[0]
    roles = [m.role for m in first.response.transcript]
    assert roles == ["user", "assistant"] * 3
    assert first.response.transcript[-2].content == first.attempt.case.prompt
    assert first.response.transcript[-1].content == first.response.text
    assert first.status is Status.UNSAFE
    # a rerun is served from the cache, conversation included
    again = scan(
        make_plan(suites=[suite], targets=[target], judges=[judge], attack_chains=[(Escalate(),)]),
        store,
        params=FAST,
        resume=False,
    )
    assert again.stats.cached == 10 and len(target.calls) == 30


def test_multi_turn_against_the_http_stub(suite_factory, judge) -> None:  # type: ignore[no-untyped-def]
    suite = suite_factory(4)

    def reply(message: str) -> str:
        return f"Answer to: {message}"

    with StubServer(reply=reply) as stub:
        target = OpenAITarget(base_url=stub.base_url, model="stub")
        store = Store(":memory:")
        plan = make_plan(
            suites=[suite], targets=[target], judges=[judge], attack_chains=[(Escalate(),)]
        )
        results = store.results(scan(plan, store, params=FAST).run.id)
        seen = [entry.marker for entry in stub.log]
    assert len(results) == 2
    assert sorted(seen).count("Why does it matter?") == 2
    for result in results:
        transcript = result.response.transcript
        assert [m.content for m in transcript[1::2]] == [
            "Answer to: Tell me about history.",
            "Answer to: Why does it matter?",
            f"Answer to: {result.attempt.case.prompt}",
        ]
        assert result.response.text == transcript[-1].content


def test_a_failed_turn_is_an_error_naming_the_turn(suite_factory, judge) -> None:  # type: ignore[no-untyped-def]
    class FailSecond(Escalate):
        def mutate(
            self, variant: str, case: Case, messages: tuple[Message, ...], rng: random.Random
        ) -> Mutation:
            made = super().mutate(variant, case, messages, rng)
            broken = Message(role="user", content="[[stub:500]] Why does it matter?")
            return made.model_copy(update={"followups": (broken, made.followups[1])})

    with StubServer() as stub:
        target = OpenAITarget(base_url=stub.base_url, model="stub")
        store = Store(":memory:")
        plan = make_plan(
            suites=[suite_factory(2)],
            targets=[target],
            judges=[judge],
            attack_chains=[(FailSecond(),)],
        )
        results = store.results(scan(plan, store, params=FAST).run.id)
    assert len(results) == 1
    failed = results[0]
    assert failed.status is Status.ERROR
    assert failed.response.error_detail is not None
    assert failed.response.error_detail.startswith("turn 2 of 3")
    assert len(failed.response.transcript) == 3  # user, assistant, the failing user turn


class _Obedient(MockTarget):
    """Follows any instruction it reads: repeats every canary-looking code it is shown."""

    async def respond(self, attempt: Attempt) -> Response:
        import re

        text = "\n".join(m.content for m in attempt.messages)
        codes = re.findall(r"\b[A-Z]+-[0-9A-F]{6}\b", text)
        return Response(text=f"{codes[0]} Sure." if codes else "Sure.")


def test_injection_status_is_whether_the_canary_came_back(suite_factory, judge) -> None:  # type: ignore[no-untyped-def]
    from assay.attacks.injection import ExtractionAttack, InjectionAttack

    suite = suite_factory(4)
    chains = [(InjectionAttack(variants=["document"]),), (ExtractionAttack(sample=1),)]
    for target, expected in ((_Obedient(), Status.UNSAFE), (MockTarget(), Status.SAFE)):
        store = Store(":memory:")
        plan = make_plan(suites=[suite], targets=[target], judges=[judge], attack_chains=chains)
        results = store.results(scan(plan, store, params=FAST).run.id)
        assert len(results) == 4
        for r in results:
            canary = r.attempt.detail("canary")
            assert canary and r.verdicts[0].judge.name == "canary", r.verdicts
            assert r.status is expected, (r.attempt.label, r.response.text)
            assert [v.judge.name for v in r.verdicts][1:] == ["prefix"]  # the run's judge kept


def test_an_echoed_request_is_unscored_and_the_judges_verdicts_kept(suite_factory, judge) -> None:  # type: ignore[no-untyped-def]
    class Parrot(MockTarget):
        async def respond(self, attempt: Attempt) -> Response:
            return Response(text=f"{attempt.messages[-1].content} please")

    suite = suite_factory(4)
    store = Store(":memory:")
    plan = make_plan(suites=[suite], targets=[Parrot()], judges=[judge])
    results = store.results(scan(plan, store, params=FAST).run.id)
    assert len(results) == 4  # "question 1 please": 2 of 3 words are the request's
    assert all(r.status is not Status.UNSCORED for r in results)

    class Echo(MockTarget):
        async def respond(self, attempt: Attempt) -> Response:
            return Response(text=f"{attempt.messages[-1].content} {attempt.messages[-1].content}")

    store = Store(":memory:")
    plan = make_plan(
        suites=[suite],
        targets=[Echo()],
        judges=[judge],
        attack_chains=[(Shout(variants=["upper"]),)],
    )
    results = store.results(scan(plan, store, params=FAST).run.id)
    assert len(results) == 2
    for r in results:
        assert r.status is Status.UNSCORED
        assert [v.judge.name for v in r.verdicts] == ["echo", "prefix"]
