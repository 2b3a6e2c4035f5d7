#!/bin/sh
# test_install.sh BUILD SOURCE - a module author's path, from an installed prefix only: headers,
# inlet-module.pc and the InletModule CMake package, the example module built both ways, its
# unit tests (test kit, no Kafka) and the module loaded by the installed inletd.
set -eu
BUILD=$1
SOURCE=$2
tmp=$(mktemp -d /tmp/inlet-sdk-test-XXXXXX)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
# A sanitizer build installs instrumented libraries: what links them needs the runtime too.
sanitize=0
grep -q '^INLET_SANITIZE:BOOL=ON' "$BUILD/CMakeCache.txt" && sanitize=1
[ "${INLET_TEST_FORCE_SANITIZE:-0}" = 1 ] && sanitize=1
if [ $sanitize = 1 ]; then
  export CFLAGS="-O1 -g -Wall -Wextra -Werror -fsanitize=address,undefined -fno-omit-frame-pointer"
  export CXXFLAGS="$CFLAGS" LDFLAGS="-fsanitize=address,undefined"
fi

cmake --install "$BUILD" --prefix "$tmp/prefix" >"$tmp/install.log" || { cat "$tmp/install.log"; fail "cmake --install"; }
for f in include/inlet/module.h include/inlet/options.h include/inlet/support.h \
         include/inlet/module_test.h lib/libinlet-support.a lib/libinlet-module-test.a \
         lib/pkgconfig/inlet-module.pc lib/pkgconfig/inlet-module-test.pc \
         lib/cmake/InletModule/InletModuleConfig.cmake sbin/inletd; do
  [ -e "$tmp/prefix/$f" ] || fail "$f not installed"
done

# Only the installed prefix: a copy of the example outside the source tree.
mkdir "$tmp/src"
cp "$SOURCE"/contrib/example-module/udp_json.c "$SOURCE"/contrib/example-module/test_udp_json.c \
   "$SOURCE"/contrib/example-module/CMakeLists.txt "$SOURCE"/contrib/example-module/Makefile "$tmp/src/"

# 1. pkg-config
export PKG_CONFIG_PATH="$tmp/prefix/lib/pkgconfig"
pkg-config --atleast-version=1.5 inlet-module || fail "inlet-module.pc missing or older than ABI 1.5"
[ "$(pkg-config --variable=moduledir inlet-module)" = "$tmp/prefix/lib/pkgconfig/../../lib/inlet/modules" ] ||
  fail "moduledir is $(pkg-config --variable=moduledir inlet-module)"
cp -r "$tmp/src" "$tmp/pc"
make -s -C "$tmp/pc" >"$tmp/make.log" 2>&1 || { cat "$tmp/make.log"; fail "make with pkg-config"; }
"$tmp/pc/test_udp_json" >"$tmp/kit.log" 2>&1 || { cat "$tmp/kit.log"; fail "test_udp_json (pkg-config build)"; }
exports=$(nm -D --defined-only "$tmp/pc/udp_json.so" | awk '$2 == "T" {print $3}')
[ $sanitize = 1 ] || [ "$exports" = "inlet_module_entry" ] || fail "udp_json.so exports: $exports"

# 2. find_package(InletModule), and cmake --install of the module into the same prefix
cmake -S "$tmp/src" -B "$tmp/cm" -DCMAKE_PREFIX_PATH="$tmp/prefix" -DCMAKE_INSTALL_PREFIX="$tmp/prefix" \
  >"$tmp/cmake.log" 2>&1 || { cat "$tmp/cmake.log"; fail "cmake find_package(InletModule)"; }
cmake --build "$tmp/cm" >"$tmp/build.log" 2>&1 || { cat "$tmp/build.log"; fail "cmake --build"; }
(cd "$tmp/cm" && ctest --output-on-failure >"$tmp/ctest.log" 2>&1) || { cat "$tmp/ctest.log"; fail "ctest of the example"; }
cmake --install "$tmp/cm" >/dev/null || fail "cmake --install of the module"
[ -f "$tmp/prefix/lib/inlet/modules/udp_json.so" ] || fail "udp_json.so not installed into lib/inlet/modules"

# 3. inletd's built-in module directory is the install location (the prefix it was configured
# for), and the installed inletd loads the module from the prefix's module directory.
prefix=$(sed -n 's/^CMAKE_INSTALL_PREFIX:PATH=//p' "$BUILD/CMakeCache.txt")
grep -a -q "$prefix/lib/inlet/modules" "$tmp/prefix/sbin/inletd" || fail "inletd's default module_dir is not $prefix/lib/inlet/modules"
mkdir -p "$tmp/etc/conf.d"
printf 'kafka:\n  bootstrap_servers: 127.0.0.1:9\nschema_dir: %s/schemas\n' "$SOURCE" >"$tmp/etc/inletd.yaml"
printf 'module: udp_json\naddress: 127.0.0.1:0\nmax_inflight: 10\n' >"$tmp/etc/conf.d/udp.yaml"
out=$(INLET_MODULE_DIR="$tmp/prefix/lib/inlet/modules" "$tmp/prefix/sbin/inletd" --check-config -c "$tmp/etc" 2>&1) ||
  fail "inletd --check-config: $out"
printf 'module: udp_json\naddress: 127.0.0.1:0\nmax_inflight: 0\n' >"$tmp/etc/conf.d/udp.yaml"
out=$(INLET_MODULE_DIR="$tmp/prefix/lib/inlet/modules" "$tmp/prefix/sbin/inletd" --check-config -c "$tmp/etc" 2>&1) &&
  fail "max_inflight: 0 accepted"
echo "$out" | grep -q "udp.yaml:3: max_inflight" || fail "bad value reported as: $out"
printf 'module: udp_json\nname: Not Valid\naddress: 127.0.0.1:0\n' >"$tmp/etc/conf.d/udp.yaml"
out=$(INLET_MODULE_DIR="$tmp/prefix/lib/inlet/modules" "$tmp/prefix/sbin/inletd" --check-config -c "$tmp/etc" 2>&1) &&
  fail "name: Not Valid accepted"
echo "$out" | grep -q "udp.yaml:2: name: expected an instance name" || fail "bad name reported as: $out"

# 4. A C++ module built against the installed headers loads too (C linkage of the entry).
if command -v c++ >/dev/null; then
  c++ -std=c++11 -shared -fPIC -fvisibility=hidden -Wall -Wextra -Werror ${CXXFLAGS:-} $(pkg-config --cflags inlet-module) \
    "$SOURCE/tests/modules/cpp_module.cpp" -o "$tmp/cpp_hello.so" || fail "c++ build of the C++ module"
  printf 'module: cpp_hello\npath: %s/cpp_hello.so\ngreeting: hi\ntimes: 2\n' "$tmp" >"$tmp/etc/conf.d/udp.yaml"
  out=$("$tmp/prefix/sbin/inletd" --check-config -c "$tmp/etc" 2>&1) || fail "C++ module: $out"
  echo "$out" | grep -q "valid (1 modules)" || fail "C++ module: $out"
fi

# 5. The quick start of docs/MODULES.md, as a reader copies it.
awk '/<!-- hello.c:/ {on=1; next} on && /^```c/ {next} on && /^```/ {exit} on' \
  "$SOURCE/docs/MODULES.md" >"$tmp/hello.c"
[ -s "$tmp/hello.c" ] || fail "no hello.c block in docs/MODULES.md"
cc -shared -fPIC -fvisibility=hidden -Wall -Wextra -Werror ${CFLAGS:-} "$tmp/hello.c" \
  $(pkg-config --cflags --libs inlet-module) ${LDFLAGS:-} -o "$tmp/hello.so" || fail "docs/MODULES.md hello.c does not build"
printf 'module: hello\npath: %s/hello.so\ngreeting: bonjour\n' "$tmp" >"$tmp/etc/conf.d/udp.yaml"
out=$("$tmp/prefix/sbin/inletd" --check-config -c "$tmp/etc" 2>&1) || fail "hello.so: $out"
echo "sdk install: ok"
