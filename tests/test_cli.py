"The `saebook` command: demo trains and saves, info reads a folder, errors are clear and exit non-zero."
import json, subprocess, sys
import pytest


def run(*args):
    return subprocess.run(['saebook', *args], capture_output=True, text=True, timeout=600)


def test_demo_trains_prints_and_saves(tmp_path):
    r = run('demo', '--toy', '--steps', '40', '--no-progress', '--save', str(tmp_path / 'sae'))
    assert r.returncode == 0, r.stderr
    header = r.stdout.splitlines()[0].split()
    assert header[:4] == ['kind', 'l0', 'fvu', 'mmcs']
    row = dict(zip(header, r.stdout.splitlines()[1].split()))
    assert row['kind'] == 'topk' and float(row['l0']) <= 10.0 and 0 <= float(row['fvu']) < 1
    info = run('info', str(tmp_path / 'sae'))
    assert info.returncode == 0, info.stderr
    d = json.loads(info.stdout)
    assert d['kind'] == 'topk' and d['d_in'] == 256 and d['k'] == 10


def test_info_on_a_bad_folder_says_what_is_wrong(tmp_path):
    r = run('info', str(tmp_path))
    assert r.returncode == 2
    assert 'cfg.json is missing' in r.stderr


def test_unknown_kind_is_rejected():
    r = run('demo', '--toy', '--kind', 'nope')
    assert r.returncode != 0 and 'invalid choice' in r.stderr


def test_train_on_model_under_torchrun_says_how_to_go_data_parallel(monkeypatch, tmp_path):
    from saebook.cli import train_on_model
    monkeypatch.setenv('WORLD_SIZE', '2')
    with pytest.raises(RuntimeError, match='runs in one process.*cache_activations'):
        train_on_model(out=tmp_path / 'run')
    assert not (tmp_path / 'run').exists()          # failed before any work or any file
