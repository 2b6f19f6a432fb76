import re

import pytest

import convenv
from convenv.error import DeprecatedEnv, NameNotFound, RegistrationError, VersionNotFound
from convenv.registration import Registry, parse_env_id


@pytest.fixture
def registry():
    snapshot = convenv.registry.snapshot()
    yield convenv.registry
    convenv.registry.restore(snapshot)


def _factory(**kwargs):
    class Env:
        pass

    env = Env()
    env.kwargs = kwargs
    return env


def test_parse_env_id():
    assert parse_env_id("MathTutor-v0") == (None, "MathTutor", 0)
    assert parse_env_id("course/Guess-Number-v12") == ("course", "Guess-Number", 12)
    assert parse_env_id("Plain") == (None, "Plain", None)
    with pytest.raises(RegistrationError, match=r"form '\[namespace/\]Name-vN'"):
        parse_env_id("bad id!")


def test_register_make_spec_and_kwargs_override(registry):
    registry.register("test/Thing-v1", _factory, kwargs={"a": 1, "b": 2}, description="a thing")
    env = convenv.make("test/Thing-v1", b=3)
    assert env.kwargs == {"a": 1, "b": 3}
    assert env.spec is convenv.spec("test/Thing-v1")
    assert re.search(r"^test/Thing-v1 +a thing$", registry.pformat(), re.M)
    with pytest.raises(RegistrationError, match="already registered"):
        registry.register("test/Thing-v1", _factory)
    registry.register("test/Thing-v1", _factory, override=True)


def test_string_entry_point_is_lazy(registry):
    registry.register("test/Lazy-v0", "types:SimpleNamespace", kwargs={"y": 2})
    env = convenv.make("test/Lazy-v0", x=1)
    assert (env.x, env.y) == (1, 2)
    registry.register("test/Broken-v0", "no_colon_here")
    with pytest.raises(RegistrationError, match="'module:attr'"):
        convenv.make("test/Broken-v0")


def test_unknown_ids_get_helpful_messages(registry):
    registry.register("test/Thing-v1", _factory)
    registry.register("test/Thing-v2", _factory)
    with pytest.raises(NameNotFound, match="did you mean 'MathTutor-v0'"):
        convenv.make("MathTutr-v0")
    with pytest.raises(VersionNotFound, match="use 'test/Thing-v2' \\(the newest\\)"):
        convenv.make("test/Thing")
    with pytest.raises(DeprecatedEnv, match="older than 'test/Thing-v2'"):
        convenv.make("test/Thing-v0")
    with pytest.raises(VersionNotFound, match="expected one of the versions"):
        convenv.make("test/Thing-v7")
    with pytest.raises(NameNotFound, match="pprint_registry"):
        convenv.make("Zzzzzzzz-v0")


def test_plugins_are_loaded_from_the_entry_point_group(monkeypatch):
    from importlib import metadata

    calls = []

    class FakeEntryPoint:  # the entry-point object importlib.metadata returns; the plugin is real code
        name = "demo"

        def load(self):
            return lambda: (calls.append(1), reg.register("plugin/Demo-v0", _factory))

    reg = Registry()
    monkeypatch.setattr(
        metadata, "entry_points", lambda group: [FakeEntryPoint()] if group == "convenv.envs" else []
    )
    assert [s.id for s in reg] == ["plugin/Demo-v0"]
    reg.spec("plugin/Demo-v0")
    assert calls == [1]  # loaded once


def test_pprint_registry_lists_math_tutor(capsys):
    convenv.pprint_registry()
    assert "MathTutor-v0" in capsys.readouterr().out
