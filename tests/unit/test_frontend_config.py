"""FRONTEND, without a cluster: a folder that cannot be served is refused
before anything starts; nginx.conf serves it at / and the lab's page at
/lab/, and asks the course's convention for its pages' calls."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from scripts.cluster import ROOT, ClusterConfig, LaunchError, nginx_bin, up
from scripts.cluster.commands import _print_welcome
from scripts.cluster.render import render_nginx

STATIC = ROOT / "nginx" / "static"


@pytest.fixture
def pages(tmp_path: Path) -> Path:
    folder = tmp_path / "hmdp"
    (folder / "js").mkdir(parents=True)
    (folder / "index.html").write_text("<!doctype html><title>stand-in</title>")
    return folder


def test_a_missing_folder_is_refused_before_anything_starts(tmp_path: Path) -> None:
    cfg = ClusterConfig(run_dir=tmp_path / "run", frontend=str(tmp_path / "nowhere"))
    with pytest.raises(LaunchError, match=r"FRONTEND=.*nowhere: no such folder .*nginx-1\.18\.0/html/hmdp"):
        up(cfg)
    assert not cfg.run_dir.exists()


def test_a_folder_without_an_index_html_is_refused_before_anything_starts(
    tmp_path: Path, pages: Path
) -> None:
    (pages / "index.html").unlink()
    cfg = ClusterConfig(run_dir=tmp_path / "run", frontend=str(pages))
    with pytest.raises(LaunchError, match=r"no index\.html in it"):
        up(cfg)
    assert not cfg.run_dir.exists()


def test_make_up_names_the_folder_it_cannot_serve(tmp_path: Path) -> None:
    env = {**os.environ, "FRONTEND": str(tmp_path / "nowhere"), "RUN_DIR": str(tmp_path / "run")}
    result = subprocess.run(
        [sys.executable, "-m", "scripts.cluster", "up"], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert result.returncode == 1
    assert f"FRONTEND={tmp_path / 'nowhere'}: no such folder" in result.stderr
    assert not (tmp_path / "run").exists()


@pytest.mark.parametrize("name", ["a$b", 'say "hi"', "back\\slash", "new\nline"])
def test_a_path_nginx_cannot_hold_is_refused(tmp_path: Path, name: str) -> None:
    with pytest.raises(LaunchError, match="nginx cannot serve a path"):
        ClusterConfig(run_dir=tmp_path, frontend=str(tmp_path / name))


def test_a_relative_folder_is_made_absolute(
    tmp_path: Path, pages: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(pages.parent)
    assert ClusterConfig(run_dir=tmp_path, frontend="hmdp").frontend == str(pages)


def test_with_a_frontend_nginx_serves_it_at_the_root_and_the_lab_page_at_lab(
    tmp_path: Path, pages: Path
) -> None:
    conf = render_nginx(ClusterConfig(run_dir=tmp_path, frontend=str(pages)))
    assert f'root "{pages}";' in conf
    assert f"alias {STATIC}/;" in conf
    assert "proxy_set_header X-Failure-Convention $failure_convention;" in conf


def test_without_one_nothing_changes_but_the_lab_page_is_also_at_lab(tmp_path: Path) -> None:
    conf = render_nginx(ClusterConfig(run_dir=tmp_path))
    assert f"root {STATIC};" in conf and f"alias {STATIC}/;" in conf
    assert "X-Failure-Convention" not in conf and "$http_referer" not in conf


@pytest.mark.parametrize("frontend", [True, False])
def test_nginx_accepts_the_config(tmp_path: Path, pages: Path, frontend: bool) -> None:
    cfg = ClusterConfig(run_dir=tmp_path / "run", frontend=str(pages) if frontend else "")
    for sub in ("logs", "nginx/tmp"):
        (cfg.run_dir / sub).mkdir(parents=True)
    (cfg.run_dir / "nginx.conf").write_text(render_nginx(cfg))
    result = subprocess.run(
        [nginx_bin(), "-t", "-e", str(cfg.log_dir / "error.log"), "-c", str(cfg.run_dir / "nginx.conf")],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 0, result.stderr


def test_the_welcome_names_the_course_pages_and_the_lab_page(
    tmp_path: Path, pages: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cfg = ClusterConfig(run_dir=tmp_path, frontend=str(pages))
    _print_welcome(cfg)
    out = capsys.readouterr().out
    assert f"The course's pages: {cfg.url}/ (from {pages}; log in at {cfg.url}/login.html)" in out
    assert f"The lab's page: {cfg.url}/lab/" in out
    _print_welcome(ClusterConfig(run_dir=tmp_path))
    assert f"The page: {cfg.url}/ " in capsys.readouterr().out
