from pathlib import Path

import pytest

from octavo.config import describe, load_config, parse_config
from octavo.errors import ConfigError

P = Path("/book/octavo.toml")


def messages(text):
    with pytest.raises(ConfigError) as info:
        parse_config(text, P)
    return [str(d) for d in info.value.diagnostics]


def test_defaults_and_values():
    cfg = parse_config('[project]\ntitle = "T"\n[build]\njobs = 3\nexclude = ["x/*"]\n', P)
    assert cfg.project.title == "T"
    assert cfg.build.jobs == 3 and cfg.jobs == 3
    assert cfg.build.exclude == ["x/*"]
    assert cfg.build.timeout == 600


def test_every_problem_reported_at_once_with_lines():
    text = ('[project]\ntitle = 3\nauthr = "x"\n\n[build]\ntimeout = "long"\n'
            'jobs = -1\nexclude = "a"\n\n[htm]\ntheme = "x"\n')
    found = messages(text)
    assert len(found) == 6, found
    assert "/book/octavo.toml:2: [project] title = 3: expected a string, found int" in found[0]
    assert ":3: unknown key 'authr' in [project] — did you mean 'author'?" in found[1]
    assert ":6: [build] timeout = 'long': expected an integer, found str" in found[2]
    assert ":7: [build] jobs = -1: expected a value >= 0" in found[3]
    assert ":8: [build] exclude = 'a': expected a list of a string" in found[4]
    assert ":10: unknown section [htm]" in found[5] and "html" in found[5]


def test_invalid_toml_names_the_line():
    found = messages('[project]\ntitle = "unclosed\n')
    assert len(found) == 1
    assert found[0].startswith("/book/octavo.toml:2: invalid TOML")


def test_bool_is_not_an_integer():
    found = messages("[build]\ntimeout = true\n")
    assert "expected an integer, found bool" in found[0]


def test_missing_config(tmp_path):
    with pytest.raises(ConfigError) as info:
        load_config(tmp_path)
    assert "no octavo.toml found" in str(info.value)


def test_not_utf8(tmp_path):
    (tmp_path / "octavo.toml").write_bytes(b'[project]\ntitle = "\xff"\n')
    with pytest.raises(ConfigError) as info:
        load_config(tmp_path)
    assert "not UTF-8" in str(info.value)


def test_describe_lists_every_key():
    text = describe()
    for key in ("[project]", "title", "[build]", "timeout", "[html]", "copy_button"):
        assert key in text
