"""The shell-script orchestrator's `show`: cost per model and tokens per interaction, greppable."""

from __future__ import annotations

import re

from tests.cli.conftest import shell


def test_show_prints_cost_per_model_and_tokens_per_interaction(cli, home, configured):
    cli("create", "orc", "--provider", "openai")
    cli("ask", "--session", "orc", "Plan the work")
    cli("ask", "--session", "orc", "--model", "gpt-4o", "Review the plan")
    cli("ask", "--session", "orc", "Go on")
    details = cli.json("show", "orc")["details"]["usage"]
    models = {m["model"]: m for m in details["byModel"]}
    assert set(models) == {"gpt-4o-mini", "gpt-4o"} and models["gpt-4o-mini"]["interactions"] == 2
    assert details["costUsd"] > 0 and abs(details["costUsd"] - sum(m["costUsd"] for m in models.values())) < 1e-6
    per_turn = (details["inputTokens"] + details["outputTokens"]) / 3
    assert details["tokensPerInteraction"] == per_turn
    grep = shell("ai-session show orc | grep Cost", home)
    assert grep.returncode == 0
    cost = re.fullmatch(r"\s*Cost  \$(\d+\.\d{4}) \((.+)\)\n", grep.stdout)
    assert cost and float(cost.group(1)) == round(details["costUsd"], 4)
    assert "gpt-4o $" in cost.group(2) and "gpt-4o-mini $" in cost.group(2)
    text = cli("show", "orc").stdout
    assert f"Interactions  3, {per_turn:,.0f} tokens per interaction" in text
