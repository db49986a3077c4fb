"""The run folder a run claims for itself (RL Zoo's ``<env>_<n>``, never shared by two runs)."""

from __future__ import annotations

import argparse
from concurrent.futures import ThreadPoolExecutor

from sb3_atari_ext.common.run_folder import claim_run_folder


def test_a_free_folder_is_created_under_its_own_name(tmp_path):
    wanted = tmp_path / "dqn" / "CartPole-v1_1"
    assert claim_run_folder(wanted, "CartPole-v1") == wanted
    assert wanted.is_dir()


def test_a_folder_another_run_made_first_is_left_alone_and_the_next_number_taken(tmp_path):
    (tmp_path / "CartPole-v1_1").mkdir()
    (tmp_path / "CartPole-v1_1" / "0.monitor.csv").write_text("theirs\n")
    (tmp_path / "CartPole-v1_2").mkdir()
    claimed = claim_run_folder(tmp_path / "CartPole-v1_1", "CartPole-v1")
    assert claimed == tmp_path / "CartPole-v1_3" and claimed.is_dir()
    assert (tmp_path / "CartPole-v1_1" / "0.monitor.csv").read_text() == "theirs\n"
    assert not any(claimed.iterdir())


def test_env_names_with_dashes_and_underscores_keep_their_name(tmp_path):
    (tmp_path / "MinAtar-Breakout-v1_12").mkdir()
    claimed = claim_run_folder(tmp_path / "MinAtar-Breakout-v1_12", "MinAtar-Breakout-v1")
    assert claimed.name == "MinAtar-Breakout-v1_13"


def test_a_uuid_folder_is_made_as_named(tmp_path):
    # RL Zoo's --uuid: <env>_<n>_<uuid> is unique already, so it is not renumbered
    wanted = tmp_path / "CartPole-v1_1_0b8c2f0e-1111-2222-3333-444455556666"
    assert claim_run_folder(wanted, "CartPole-v1") == wanted and wanted.is_dir()


def test_runs_claiming_the_same_number_at_once_each_get_their_own_folder(tmp_path):
    wanted = tmp_path / "ppo" / "CartPole-v1_1"
    with ThreadPoolExecutor(8) as pool:
        claimed = list(pool.map(lambda _: claim_run_folder(wanted, "CartPole-v1"), range(16)))
    assert len(set(claimed)) == 16
    assert sorted(int(p.name.rsplit("_", 1)[1]) for p in claimed) == list(range(1, 17))


def test_two_rl_zoo_runs_built_together_write_to_two_folders(tmp_path, capsys):
    # RL Zoo numbers a run when its manager is built and makes the folder later: two runs started
    # at the same time (two seeds in two shells) both get <env>_1 from RL Zoo
    from sb3_atari_ext.zoo import autoload

    autoload.apply()
    from sb3_atari_ext.zoo.manager import PluginExperimentManager

    first, second = (
        PluginExperimentManager(argparse.Namespace(), "dqn", "CartPole-v1", str(tmp_path), n_timesteps=100)
        for _ in range(2)
    )
    assert first.save_path == second.save_path  # RL Zoo's numbering alone
    first.create_log_folder()
    second.create_log_folder()
    assert first.save_path != second.save_path
    assert sorted(p.name for p in (tmp_path / "dqn").iterdir()) == ["CartPole-v1_1", "CartPole-v1_2"]
    assert second.params_path == f"{second.save_path}/CartPole-v1"
    assert (tmp_path / "dqn" / "CartPole-v1_2" / "CartPole-v1").is_dir()
    assert "was taken by a run started at the same time" in capsys.readouterr().err
