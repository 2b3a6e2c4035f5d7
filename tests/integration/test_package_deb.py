"""The Debian package (contrib/package/package.cmake): cpack -G DEB from this build, unpacked
into a scratch root with dpkg -x, holds the daemon, every module where the installed daemon
looks by default, the SDK headers, the systemd unit with this prefix's paths and the example
configuration; the unpacked inletd validates the unpacked /etc/inlet."""
import glob
import os
import re
import shutil
import subprocess
import tempfile

import pytest

from harness import BUILD, SOURCE


def run(*args, **kw):
    return subprocess.run(args, capture_output=True, text=True, timeout=300, **kw)


def cache(name):
    with open(os.path.join(BUILD, "CMakeCache.txt")) as f:
        for line in f:
            m = re.match(rf"{name}:[A-Z]+=(.*)$", line.rstrip("\n"))
            if m:
                return m.group(1)
    raise KeyError(name)


@pytest.fixture(scope="module")
def pkg():
    if not shutil.which("cpack") or not shutil.which("dpkg-deb"):
        pytest.fail("cpack and dpkg-deb are needed (contrib/install-deps)")
    out = tempfile.mkdtemp(prefix="inlet-deb-")
    r = run("cpack", "-G", "DEB", "-B", out, cwd=BUILD)
    assert r.returncode == 0, r.stdout + r.stderr
    debs = glob.glob(os.path.join(out, "inlet_*.deb"))
    assert len(debs) == 1, os.listdir(out)
    root = os.path.join(out, "root")
    r = run("dpkg", "-x", debs[0], root)
    assert r.returncode == 0, r.stderr
    prefix = cache("CMAKE_INSTALL_PREFIX")
    yield debs[0], root, root + prefix, prefix
    shutil.rmtree(out, ignore_errors=True)


def test_control_fields(pkg):
    deb = pkg[0]
    info = run("dpkg-deb", "-f", deb, "Package", "Version", "Depends", "Architecture").stdout
    assert "Package: inlet\n" in info
    version = re.search(r'project\(inlet VERSION ([0-9.]+)',
                        open(os.path.join(SOURCE, "CMakeLists.txt")).read()).group(1)
    assert f"Version: {version}\n" in info
    # dpkg-shlibdeps found the libraries the binaries link
    for lib in ("librdkafka1", "libssl3", "libyaml-0-2", "libjansson4", "adduser"):
        assert lib in info, info
    conffiles = run("dpkg-deb", "--ctrl-tarfile", deb)
    assert conffiles.returncode == 0
    ctrl = tempfile.mkdtemp(dir=os.path.dirname(deb))
    assert run("dpkg-deb", "-e", deb, ctrl).returncode == 0
    with open(os.path.join(ctrl, "conffiles")) as f:
        assert f.read().split() == ["/etc/inlet/inletd.yaml", "/etc/inlet/conf.d/http.yaml"]
    assert os.access(os.path.join(ctrl, "postinst"), os.X_OK)
    assert "adduser --system" in open(os.path.join(ctrl, "postinst")).read()


def test_contents(pkg):
    _, root, pre, prefix = pkg
    assert os.access(os.path.join(pre, "sbin", "inletd"), os.X_OK)
    for tool in ("inlet-token", "inlet-send", "inlet-sim"):
        assert os.access(os.path.join(pre, "bin", tool), os.X_OK), tool
    built = sorted(os.path.basename(p) for p in glob.glob(os.path.join(BUILD, "modules", "*.so")))
    packaged = sorted(os.listdir(os.path.join(pre, "lib", "inlet", "modules")))
    assert built and packaged == built
    headers = sorted(os.path.basename(p) for p in glob.glob(
        os.path.join(SOURCE, "core", "include", "inlet", "*.h")))
    assert sorted(os.listdir(os.path.join(pre, "include", "inlet"))) >= headers
    for f in ("inletd.yaml", "conf.d/http.yaml", "schemas/fleet.position/v1.json"):
        assert os.path.isfile(os.path.join(root, "etc", "inlet", f)), f
    # the demo tenant's published tokens are an example, never configuration
    assert not glob.glob(os.path.join(root, "etc", "inlet", "conf.d", "tenant-*"))
    assert os.path.isfile(os.path.join(pre, "share", "doc", "inlet", "examples", "conf.d",
                                       "tenant-demo.yaml"))
    assert os.path.isfile(os.path.join(pre, "share", "doc", "inlet", "OPERATIONS.md"))
    # the unit names the packaged binary and config, not contrib's /usr/local defaults
    unit = open(os.path.join(pre, "lib", "systemd", "system", "inletd.service")).read()
    for m in re.finditer(r"^Exec\w+=(\S+)", unit, re.M):
        exe = m.group(1).lstrip("-+!@")
        if exe.startswith(prefix + "/"):
            assert os.path.exists(root + exe), exe
    assert f"ExecStart={prefix}/sbin/inletd -c /etc/inlet" in unit


def test_installed_daemon_checks_installed_config(pkg):
    _, root, pre, prefix = pkg
    inletd = os.path.join(pre, "sbin", "inletd")
    env = dict(os.environ, INLET_MODULE_DIR=os.path.join(pre, "lib", "inlet", "modules"))
    r = run(inletd, "--check-config", "-c", os.path.join(root, "etc", "inlet"), env=env)
    assert r.returncode == 0, r.stderr
    assert "valid (1 modules)" in r.stdout
    # the examples (every module and the demo tenant) are valid too, with the same modules
    ex = tempfile.mkdtemp(prefix="examples-", dir=os.path.dirname(root))
    shutil.copy(os.path.join(root, "etc", "inlet", "inletd.yaml"), ex)
    shutil.copytree(os.path.join(root, "etc", "inlet", "schemas"), os.path.join(ex, "schemas"))
    shutil.copytree(os.path.join(pre, "share", "doc", "inlet", "examples", "conf.d"),
                    os.path.join(ex, "conf.d"))
    os.chmod(os.path.join(ex, "conf.d", "keys", "truck-0042.psk"), 0o600)
    r = run(inletd, "--check-config", "-c", ex, env=env)
    assert r.returncode == 0, r.stderr
    n = len(glob.glob(os.path.join(ex, "conf.d", "*.yaml"))) - 1  # minus the tenant
    assert f"valid ({n} modules)" in r.stdout


def test_installed_daemon_looks_in_the_install_location(pkg):
    """Without INLET_MODULE_DIR the packaged binary (outside the build tree) looks in
    <prefix>/lib/inlet/modules, not in the build tree it was compiled in."""
    _, root, pre, prefix = pkg
    env = {k: v for k, v in os.environ.items() if k != "INLET_MODULE_DIR"}
    r = run(os.path.join(pre, "sbin", "inletd"), "--check-config", "-c",
            os.path.join(root, "etc", "inlet"), env=env)
    if os.path.exists(os.path.join(prefix, "lib", "inlet", "modules", "http.so")):
        assert r.returncode == 0, r.stderr  # this machine has it installed there
    else:
        assert r.returncode == 1
        assert f"{prefix}/lib/inlet/modules/http.so" in r.stderr, r.stderr


def test_build_tree_binary_finds_build_modules():
    """The quickstart's `build/inletd -c .`: a binary in its build tree uses the tree's modules."""
    env = {k: v for k, v in os.environ.items() if k != "INLET_MODULE_DIR"}
    os.chmod(os.path.join(SOURCE, "conf.d", "keys", "truck-0042.psk"), 0o600)  # as quickstart
    r = run(os.path.join(BUILD, "inletd"), "--check-config", "-c", SOURCE, env=env)
    assert r.returncode == 0, r.stderr


def test_installed_simulator_runs(pkg):
    _, root, pre, prefix = pkg
    r = run(os.path.join(pre, "bin", "inlet-sim"), "--help")
    assert r.returncode == 0 and "--protocol" in r.stdout, r.stderr
