import json

from node.envelope import fail, ok


def body(response: object) -> dict[str, object]:
    return json.loads(response.text)  # type: ignore[attr-defined, no-any-return]


def test_ok_leaves_out_null_fields_as_the_seed_jackson_config_does() -> None:
    assert body(ok()) == {"success": True}
    assert body(ok("t0ken")) == {"success": True, "data": "t0ken"}
    assert body(ok([1, 2], total=2)) == {"success": True, "data": [1, 2], "total": 2}


def test_ok_keeps_falsy_but_present_data() -> None:
    assert body(ok([])) == {"success": True, "data": []}
    assert body(ok(0)) == {"success": True, "data": 0}


def test_fail_carries_status_and_message() -> None:
    response = fail(400, "wrong code")
    assert response.status == 400
    assert response.content_type == "application/json"
    assert body(response) == {"success": False, "errorMsg": "wrong code"}


def test_chinese_text_is_sent_readable() -> None:
    assert "小鱼同学" in ok({"name": "小鱼同学"}).text  # type: ignore[operator]
