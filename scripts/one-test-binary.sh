#!/usr/bin/env bash
# Moves the integration tests into one test binary: every tests/NAME.rs becomes the
# module tests/it/NAME.rs of tests/it/main.rs (cargo builds it as the test target `it`),
# so that the dependencies are linked once instead of once per file. Helpers that several
# files define with the same text move to tests/it/util.rs; each file that had one uses
# it from there. Commands that select test files (`cargo test --test NAME`) in .ci/run,
# scripts/, README.md and docs/ become `cargo test --test it -- NAME::` (a run that also
# had `--lib` is split in two, since a name filter applies to every binary of a run).
#
# Usage: scripts/one-test-binary.sh        (in a clean work tree; then review and commit)
#
# Afterwards: `cargo test --test it`, `cargo test --test it -- golden_cli::` (one former
# file), `cargo test --test it -- golden_cli::p99` (one test).
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -e tests/it ]; then
    echo "tests/it exists already: nothing to do" >&2
    exit 1
fi
if ! git diff --quiet HEAD -- tests; then
    echo "tests/ has uncommitted changes: commit or stash them first" >&2
    exit 1
fi
mkdir tests/it
# tests/common/mod.rs (`mod common;` in the files that use it) becomes the module
# `crate::common` of the one binary.
if [ -d tests/common ]; then
    git mv tests/common tests/it/common
fi
names=()
for f in tests/*.rs; do
    n=$(basename "$f" .rs)
    git mv "$f" "tests/it/$n.rs"
    names+=("$n")
done

# `mod common;` in a module → `crate::common::` for what it used.
perl -i -0777 -pe 's/^mod common;\n\n?//m and s/(?<![\w:])common::/crate::common::/g' tests/it/*.rs

# The shared helpers, each with the exact text files define it with (`fn NAME` at the
# start of a line through the first line that is only `}`).
cat > tests/it/util.rs <<'EOF'
//! Helpers shared by the test modules.

use assert_cmd::Command;

/// The `fdbench` binary under test.
pub fn fdbench() -> Command {
    Command::cargo_bin("fdbench").unwrap()
}
EOF

# For each module: remove every helper whose text (doc comment included, `pub ` dropped)
# is the one in util.rs, import it from there, and drop `use` lines left unused.
perl -0777 -i -pe '
    BEGIN {
        local $/;
        open my $u, "<", "tests/it/util.rs" or die;
        my $util = <$u>;
        while ($util =~ /((?:^\/\/\/[^\n]*\n)*)pub (fn (\w+)\b[^\n]*\n(?:[^\n]*\n)*?\}\n)/mg) {
            push @helpers, [$3, "$1$2", $2];
        }
    }
    my @used;
    for my $h (@helpers) {
        my ($name, $with_doc, $bare) = @$h;
        if (s/^\Q$with_doc\E\n?//m || s/^\Q$bare\E\n?//m) {
            push @used, $name;
        }
    }
    if (@used) {
        my $list = @used == 1 ? $used[0] : "{" . join(", ", @used) . "}";
        # After the module docs and before the first item.
        s/\A((?:\/\/![^\n]*\n)*\n?)/$1use crate::util::$list;\n/;
        # `use X::Command;` that nothing uses any more: a path (`std::process::Command`)
        # or a rename (`Command as Process`) is another type, not a use of it.
        for my $t ("Command") {
            my $uses = () = /(?<![:\w])$t\b(?! as\b)/g;
            if ($uses == 0) {
                s/^use [\w:]+::$t;\n//m;
            }
        }
    }
' $(printf 'tests/it/%s.rs ' "${names[@]}")

{
    echo "//! The integration tests, one module per theme, in one binary (\`cargo test --test it\`;"
    echo "//! \`cargo test --test it -- NAME::\` runs one module)."
    echo
    echo "mod util;"
    [ -d tests/it/common ] && echo "mod common;"
    echo
    for n in "${names[@]}"; do
        echo "mod $n;"
    done
} > tests/it/main.rs
git add tests/it

# `cargo test ... --test A --test B ... [-- ARGS]` → `cargo test ... --test it -- A:: B:: [ARGS]`;
# with `--lib` as well, the library's tests run first, on their own; `--test A -- --exact T`
# → `--test it -- --exact A::T`.
rewrite='
    if (/cargo test/ && /--test[= ]\w/) {
        my @t;
        push @t, $2 while s/(\s+|=)--test[= ](\w+)//;
        s/(\s--cargo-arg)(?=\s|$)//g;
        my $filters = join(" ", map { "${_}::" } @t);
        my ($cmd, $rest) = /^(.*?)(?:\s--\s(.*))?$/;
        # `--exact T` names the whole path of one test: `NAME::T`, no module filter.
        if (@t == 1 && defined $rest && $rest =~ s/--exact ("?)/--exact $1$t[0]::/) {
            $filters = "";
        }
        my $tail = defined $rest ? ($filters eq "" ? $rest : " $rest") : "";
        my $it = "$cmd --test it -- $filters$tail";
        if ($cmd =~ s/\s--lib\b//) {
            $it =~ s/\s--lib\b//;
            my $lib = $cmd . " --lib" . (defined $rest ? " -- $rest" : "");
            $_ = "$lib\n$it\n";
        } else {
            $_ = "$it\n";
        }
    }
'
# scripts/mutants.sh: `tests_G=(--lib --test=A --test=B)` → `tests_G=(--lib --test=it)` and
# `filters_G=(tests:: A:: B::)`: the library's unit tests (in `mod tests`) and those modules.
if [ -f scripts/mutants.sh ]; then
    perl -0777 -i -pe '
        s{^(tests_(\w+))=\(([^)\n]*)\)\n(filters_\2)=\(\)$}{
            my ($var, $args, $fvar) = ($1, $3, $4);
            my @mods = $args =~ /--test=(\w+)/g;
            $args =~ s/\s*--test=\w+//g;
            "$var=($args --test=it)\n$fvar=(tests:: " . join(" ", map { "${_}::" } @mods) . ")"
        }gme;
    ' scripts/mutants.sh
    echo "rewrote the test selection in scripts/mutants.sh:"
    grep -n -E '^(tests|filters)_' scripts/mutants.sh | sed 's/^/    /'
fi
for f in .ci/run scripts/*.sh README.md docs/*.md; do
    [ -f "$f" ] || continue
    case "$f" in scripts/one-test-binary.sh | scripts/mutants.sh) continue ;; esac
    if grep -q -E 'cargo test.*--test[= ][a-z_]' "$f"; then
        perl -i -pe "$rewrite" "$f"
        echo "rewrote the test selection in $f:"
        grep -n -E 'cargo test.*--test it' "$f" | sed 's/^/    /'
    fi
done
left=$(grep -rn -E -- '--test[= ](golden|replay|engine|robust|faults|record|import)' .ci scripts README.md docs 2>/dev/null \
    | grep -v scripts/one-test-binary.sh | grep -v -- '--test it' || true)
if [ -n "$left" ]; then
    echo "check these by hand (a test file named outside a cargo test line):"
    echo "$left"
fi
echo "moved ${#names[@]} files to tests/it/; now: cargo fmt --all && cargo test --release --test it"
