"""The one input edge: regular files only, bounded size and expansion, paths kept in the project."""

from __future__ import annotations

import os

import pytest

from scenarios.errors import ParamsError
from scenarios.model import loader
from scenarios.model.params import load_params


@pytest.fixture
def limits():
    """Restore the process-wide limits after a test changes them."""
    saved = loader.input_limits()
    yield loader.set_input_limits
    loader.set_input_limits(**vars(saved))


class TestReading:
    def test_booleans_are_yaml_1_2_only_true_and_false(self, tmp_path):
        path = tmp_path / "a.yaml"
        path.write_text("{on: 2024-01-31, yes: 1, off: no, a: true, b: FALSE, c: [True, y, n, Off]}\n")
        doc, _ = loader.load_yaml_file(str(path))
        assert doc == {"on": __import__("datetime").date(2024, 1, 31), "yes": 1, "off": "no", "a": True, "b": False,
                       "c": [True, "y", "n", "Off"]}

    def test_a_question_can_say_on_without_quotes(self, tmp_path):
        from scenarios.model.load import load_model

        path = tmp_path / "m.yaml"
        path.write_text(
            "model: m\nas_of: 2024-01-01\nhorizon_months: 3\nsamples: 100\nseed: 1\n"
            "nodes:\n  f: {flow: {rate: 2, start_month: 1}}\n"
            "questions:\n  - {id: q, resolve: {quantity: f.cumulative, on: 2024-02-15, at_least: 1}}\n"
        )
        model, questions = load_model(str(path))
        assert [q.id for q in questions] == ["q"]

    def test_reads_a_regular_file(self, tmp_path):
        path = tmp_path / "a.yaml"
        path.write_text("a: 1\n")
        assert loader.load_yaml_file(str(path)) == ({"a": 1}, b"a: 1\n")

    def test_empty_file_is_none(self, tmp_path):
        path = tmp_path / "a.yaml"
        path.write_text("")
        assert loader.load_yaml_file(str(path))[0] is None

    @pytest.mark.parametrize("make, kind", [
        (lambda p: os.mkfifo(p), "FIFO"),
        (lambda p: os.mkdir(p), "directory"),
    ])
    def test_special_files_are_refused_before_opening(self, tmp_path, make, kind):
        path = tmp_path / "x.yaml"
        make(path)
        with pytest.raises(ParamsError, match=kind):
            loader.read_input_bytes(str(path))

    def test_a_device_is_refused(self):
        with pytest.raises(ParamsError, match="/dev/zero: expected a YAML file, got a device"):
            loader.read_input_bytes("/dev/zero")

    def test_size_limit_and_raising_it(self, tmp_path, limits):
        path = tmp_path / "big.yaml"
        path.write_text("a: " + "x" * 5000 + "\n")
        limits(max_file_size=1000)
        with pytest.raises(ParamsError, match=r"file too large: 5,004 bytes, the limit is 1,000 bytes"):
            loader.load_yaml_file(str(path))
        limits(max_file_size=10_000)
        assert len(loader.load_yaml_file(str(path))[0]["a"]) == 5000

    def test_a_bare_scalar_document_is_refused_without_quoting_it(self, tmp_path):
        path = tmp_path / "text.yaml"
        path.write_text("secret-token-value " * 20)
        with pytest.raises(ParamsError) as info:
            loader.load_yaml_file(str(path))
        assert "secret" not in str(info.value) and "characters (not shown)" in str(info.value)


class TestExpansion:
    def test_aliases_are_counted_at_every_use(self, limits):
        limits(max_nodes=100)
        text = "a: &a [1, 2, 3, 4, 5, 6, 7, 8, 9]\nb: [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
        with pytest.raises(ParamsError, match=r"doc\.yaml:2: the document expands to more than 100 values"):
            loader.parse_yaml_text(text, "doc.yaml")
        limits(max_nodes=1000)
        assert len(loader.parse_yaml_text(text, "doc.yaml")["b"]) == 10

    def test_count_of_a_small_document(self):
        yaml = pytest.importorskip("yaml")
        node = yaml.compose("a: &x [1, 2]\nb: *x\n", Loader=yaml.SafeLoader)
        # mapping + 2 keys + sequence (3 nodes) counted twice
        assert loader.check_expansion(node, 100) == 1 + 2 + 3 + 3

    def test_recursive_document(self):
        with pytest.raises(ParamsError, match="recursive"):
            loader.parse_yaml_text("a: &a [1, *a]\n", "doc.yaml")

    def test_duplicate_key_is_quoted_short(self):
        key = "k" * 500
        with pytest.raises(ParamsError, match="duplicate key") as info:
            loader.parse_yaml_text(f"{key}: 1\n{key}: 2\n", "doc.yaml")
        assert len(str(info.value)) < 250


class TestProject:
    def test_the_nearest_folder_with_pyproject_or_git(self, tmp_path):
        (tmp_path / "repo" / "params").mkdir(parents=True)
        (tmp_path / "repo" / "pyproject.toml").write_text("")
        assert loader.project_root(str(tmp_path / "repo" / "params" / "m.yaml")) == os.path.realpath(tmp_path / "repo")

    def test_without_markers_the_parent_of_the_params_folder(self, tmp_path):
        (tmp_path / "model" / "params").mkdir(parents=True)
        root = loader.project_root(str(tmp_path / "model" / "params" / "m.yaml"))
        assert root == os.path.realpath(tmp_path / "model")

    def test_paths_resolve_relative_to_the_file_that_names_them(self, tmp_path):
        named_in = str(tmp_path / "params" / "m.yaml")
        path = loader.resolve_path("../data/e.yaml", named_in=named_in, root=str(tmp_path), key="evidence")
        assert os.path.realpath(path) == os.path.realpath(tmp_path / "data" / "e.yaml")

    @pytest.mark.parametrize("name", ["/etc/hosts", "../../outside.yaml", "x\x00y", "", 3])
    def test_leaving_the_project_or_not_a_path_is_refused(self, tmp_path, name):
        with pytest.raises(ParamsError, match="outside the project|expected a file path"):
            loader.resolve_path(name, named_in=str(tmp_path / "p" / "m.yaml"), root=os.path.realpath(tmp_path / "p"), key="k")

    def test_a_flag_allows_leaving_the_project(self, tmp_path, limits):
        limits(allow_outside_project=True)
        assert loader.resolve_path("/etc/hosts", named_in=str(tmp_path / "m.yaml"), root=str(tmp_path), key="k") == "/etc/hosts"

    def test_extends_outside_the_project_is_refused(self, tmp_path):
        (tmp_path / "model" / "params").mkdir(parents=True)
        (tmp_path / "elsewhere.yaml").write_text("seed: 1\n")
        path = tmp_path / "model" / "params" / "m.yaml"
        path.write_text("extends: ../../elsewhere.yaml\n")
        with pytest.raises(ParamsError, match=r"m\.yaml: extends: '../../elsewhere.yaml' is outside the project"):
            load_params(str(path))


def test_excerpt_is_short():
    assert loader.excerpt("x" * 1000).endswith("(1,000 characters)")
    assert len(loader.excerpt(list(range(1000)))) <= loader.EXCERPT_CHARS + 1
    assert loader.excerpt("short") == "'short'"
