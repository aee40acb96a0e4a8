"""Study YAML validation: errors name the file and the field; paths stay inside the config's folder."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from taskdiff.errors import ConfigError
from taskdiff.study.config import load_study

from .conftest import TINY

REPO = Path(__file__).resolve().parents[2]


def _write(tmp_path: Path, **changes) -> Path:
    cfg = {k: v for k, v in {**TINY, **changes}.items() if v is not None}
    path = tmp_path / "s.yaml"
    path.write_text(yaml.safe_dump(cfg, sort_keys=False))
    (tmp_path / "data").mkdir(exist_ok=True)
    return path


@pytest.mark.parametrize("changes, field, words", [
    ({"intermediate_train": {"learning_rate": -1}}, "intermediate_train.learning_rate", "greater than 0"),
    ({"seeds": []}, "seeds", "at least 1"),
    ({"executor": {"kind": "kubernetes"}}, "executor.kind", "local"),
    ({"executor": {"slurm": {"time": {"training": 5}}}}, "executor.slurm.time", "unknown phase"),
    ({"targets": ["xnli", "xnli"]}, "targets", "duplicate"),
    ({"colour": "blue"}, "colour", "Extra inputs"),
])
def test_schema_errors_name_file_and_field(tmp_path, changes, field, words):
    path = _write(tmp_path, **changes)
    with pytest.raises(ConfigError) as err:
        load_study(path)
    msg = str(err.value)
    assert str(path) in msg and f"'{field}" in msg and words in msg, msg


def test_unknown_task_names_the_entry_and_suggests(tmp_path):
    with pytest.raises(ConfigError, match=r"intermediates\[1\].*'snlii'.*did you mean 'snli'"):
        load_study(_write(tmp_path, intermediates=["mnli", "snlii"]))


def test_paths_may_not_leave_the_config_folder(tmp_path):
    for field in ("data_dir", "out", "store"):
        with pytest.raises(ConfigError, match=f"field '{field}'.*escapes"):
            load_study(_write(tmp_path, **{field: "../elsewhere"}))
    with pytest.raises(ConfigError, match="field 'data_dir'.*absolute"):
        load_study(_write(tmp_path, data_dir="/tmp"))


def test_data_dir_precedence(tmp_path, monkeypatch):
    path = _write(tmp_path)
    monkeypatch.setenv("TASKDIFF_DATA_DIR", str(tmp_path / "env"))
    assert load_study(path).data_dir == (tmp_path / "data").resolve()  # the file's wins over the env
    assert load_study(path, data_dir=tmp_path / "cli").data_dir == (tmp_path / "cli").resolve()  # the CLI's wins
    assert load_study(_write(tmp_path, data_dir=None)).data_dir == (tmp_path / "env").resolve()


def test_model_alias_languages_and_out_per_model(tmp_path):
    st = load_study(_write(tmp_path, model=None, models=["tiny", "org/enc"], languages=["de", "xx"]),
                    out=tmp_path / "o")
    assert st.config.models == ["tiny", "org/enc"]
    assert st.languages_of("xnli") == ["de"]
    assert st.out_dir("org/enc") == (tmp_path / "o" / "org--enc").resolve()
    with pytest.raises(ConfigError, match="target 'xnli' has none of"):
        load_study(_write(tmp_path, languages=["xx"]))


def test_mixture_is_registered_and_checked(tmp_path):
    from taskdiff.transfer.tasks import get_task

    st = load_study(_write(tmp_path, intermediates=[{"mixture": ["snli", "anli"], "name": "study_nli"}, "cosmosqa"]))
    assert st.intermediates == ["study_nli", "cosmosqa"]
    task = get_task("study_nli")
    assert task.components == ["snli", "anli"] and task.format == "pair_classification"
    st = load_study(_write(tmp_path, intermediates=[{"mixture": ["snli", "anli"]}]))
    assert st.intermediates == ["mix_snli_anli"]
    with pytest.raises(ConfigError, match=r"intermediates\[0\]\.mixture.*one format"):
        load_study(_write(tmp_path, intermediates=[{"mixture": ["mnli", "squad"]}]))


def test_shipped_configs_validate(monkeypatch):
    monkeypatch.delenv("TASKDIFF_DATA_DIR", raising=False)
    x = load_study(REPO / "configs" / "xstilts.yaml")
    assert x.config.models == ["xlm-roberta-large"] and len(x.intermediates) == 9 and len(x.config.targets) == 9
    assert x.config.intermediate_train.learning_rate == 1e-5 and x.config.seeds == [1, 2, 3]
    m = load_study(REPO / "configs" / "mini-offline.yaml", data_dir="/nonexistent")
    assert m.config.models == ["e5-small-offline"] and len(m.intermediates) >= 3 and len(m.config.seeds) == 3
    from taskdiff.transfer.tasks import get_task

    assert len({get_task(t).format for t in m.intermediates}) >= 3


def test_target_languages_override_the_study_languages_per_target(tmp_path):
    study = load_study(_write(tmp_path, languages=["de", "fr"], target_languages={"tatoeba": ["fr"]}))
    assert study.languages_of("xnli") == ["de", "fr"]
    assert study.languages_of("tatoeba") == ["fr"]
    with pytest.raises(ConfigError, match=r"target_languages\.udpos.*not one of the targets"):
        load_study(_write(tmp_path, target_languages={"udpos": ["de"]}))
