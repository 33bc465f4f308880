"""The genogram's layout: parents above children, previous perpetrators named as such, every
relation drawn between the people it joins, and nobody without a name shown by token."""

from __future__ import annotations

from hub.entrypoints.web.genogram import layout


def member(*roles: str, name: str | None = None) -> dict[str, object]:
    names = {"st_x": {"name": name}} if name else {}
    return {"tokens": ["st_x"], "roles": list(roles), "names": names}


def test_a_family_of_five_across_three_generations() -> None:
    members = {
        "p_gran": member("other", name="Gran Example"),
        "p_victim": member("victim", name="Alex Example"),
        "p_perp": member("perpetrator", name="Sam Sample"),
        "p_ex": member("perpetrator"),
        "p_child": member("child", name="Kit Example"),
    }
    relations = [
        {"a": "p_gran", "b": "p_victim", "kind": "parent_child"},
        {"a": "p_victim", "b": "p_perp", "kind": "victim_perpetrator"},
        {"a": "p_ex", "b": "p_victim", "kind": "ex_partner"},
        {"a": "p_victim", "b": "p_child", "kind": "parent_child"},
    ]
    g = layout(members, relations)
    at = {p.person_id: p for p in g.people}
    assert at["p_gran"].y < at["p_victim"].y < at["p_child"].y
    assert at["p_victim"].y == at["p_perp"].y == at["p_ex"].y
    assert at["p_ex"].role == "previous perpetrator" and at["p_perp"].role == "perpetrator"
    assert at["p_ex"].name.startswith("Person ") and "st_" not in at["p_ex"].name
    assert [(line.a, line.b, line.label) for line in g.lines] == [
        ("p_gran", "p_victim", "parent of"),
        ("p_victim", "p_perp", "abuse"),
        ("p_ex", "p_victim", "ex-partner"),
        ("p_victim", "p_child", "parent of"),
    ]
    for p in g.people:  # everyone inside the picture, nobody on top of another
        assert p.x >= 0 and p.x + 170 <= g.width and p.y >= 0 and p.y + 56 <= g.height
    assert len({(p.x, p.y) for p in g.people}) == len(g.people)
