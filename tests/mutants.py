#!/usr/bin/env python3
"""Does the suite catch a deliberate bug? A mutation check the team can rerun.

    python3 tests/mutants.py                  # every mutant (see docs/testing.md for how long)
    python3 tests/mutants.py NAME [NAME...]   # only these
    python3 tests/mutants.py --list           # names, files and the tests each runs

Each mutant changes one line of the package. The script copies the repository
to a temporary directory, first runs every test the mutants name against the
unchanged copy (they must pass, or no verdict means anything), then for each
mutant changes its line in the copy and runs the unit tests and that mutant's
integration tests, from the copy: the unit tests import the copy's package and
the `installed` fixture installs the copy. A mutant is caught when a test
fails, and survived when all pass. It prints one line per mutant and exits 1
if any survived, 2 if a mutant's line is no longer in the code exactly once
(keep the list current as the code changes) or the unchanged copy fails.

Not part of the normal run (`tests/run` never starts it); it needs the Docker
engine the integration tests need. Standard library only.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
TIMEOUT = 900  # seconds for one mutant's tests: a hang counts as caught, and says so


class Mutant:
    def __init__(self, name: str, file: str, original: str, replacement: str, *tests: str, after: str = "") -> None:
        self.name = name
        self.file = file  # under dockervisor/
        self.original = original  # the line's exact text, without its indentation
        self.replacement = replacement
        self.tests = tests  # pytest node IDs under tests/, beside the unit tests
        # For a line the file has more than once: the first one after this line (itself there once).
        self.after = after


M = Mutant
SAFE = "test_safe_upgrades.py"
SEED = "test_seed_commands.py"
OBSERVE = "test_observe.py"
TRUST = "test_trust.py"
FAILS_FAST = f"{SAFE}::test_a_failed_start_ends_as_soon_as_it_fails_and_says_why"
FAULTS = "test_fault_points.py"
CLOSED = "test_closed_output.py"
LOOPS = "test_restart_loops.py"
SHARED = "test_shared_engine.py"
RELEASE = "test_release.py"
PROCESS = "test_process_options.py"
# These need the registry tests/run starts: export DOCKERVISOR_TEST_REGISTRY first (docs/testing.md).
UPDATES = "test_updates.py"
OUTCOME = "test_outcome.py"

MUTANTS = [
    # stop
    M("stop-only-one", "commands/stop.py",
      "ctx.docker.change(docker_argv.stop(running))", "ctx.docker.change(docker_argv.stop(running[:1]))",
      f"{SEED}::test_stop_stops_every_running_container_of_the_family"),
    M("stop-one-call-per-container", "commands/stop.py",
      "ctx.docker.change(docker_argv.stop(running))",
      "for name in running: ctx.docker.change(docker_argv.stop([name]))"),  # test_unit_call_orders.py
    # start
    M("start-stops-only-one-other", "flows/switch.py",
      "ctx.docker.change(docker_argv.stop(self.others))", "ctx.docker.change(docker_argv.stop(self.others[:1]))",
      f"{SEED}::test_a_start_leaves_one_running_of_two"),
    M("start-restarts-a-running-target", "flows/switch.py",
      "self.already_running = new is None and target in active and not restart", "self.already_running = False",
      f"{SEED}::test_start_last_restarts_the_last_one_and_is_idempotent"),
    M("start-forgets-last", "flows/switch.py", "recorded, family.last = family.last, target", "recorded = family.last",
      f"{SEED}::test_start_by_container_name"),
    M("start-leaves-the-old-one-running", "flows/switch.py", "if self.others:", "if False:"),  # test_unit_call_orders.py
    M("start-new-never-prunes", "commands/prune.py", "if not beyond:", "if True:"),
    M("retention-keeps-one-more", "config/retention.py",
      "elif keep is None or stopped_kept < keep:", "elif keep is None or stopped_kept <= keep:"),
    M("start-keeps-a-never-started-container", "flows/switch.py",
      "ctx.docker.change(docker_argv.remove(target))", "pass",
      f"{TRUST}::test_a_start_that_never_ran_says_so_and_leaves_nothing"),
    # rollback
    M("rollback-does-not-wait", "flows/switch.py", "if policy.enabled:", "if False:",
      f"{SAFE}::test_a_rollback_returns_once_the_previous_container_is_up"),
    M("rollback-failure-recorded-as-rolled-back", "flows/switch.py",
      '_ROLLBACK_FAILED = "rollback-failed"', '_ROLLBACK_FAILED = "rolled-back"',
      f"{SAFE}::test_a_rollback_whose_previous_container_cannot_start_exits_4"),
    M("rollback-data-not-put-back-exits-3", "flows/switch.py", "EXIT_ROLLBACK_FAILED,", "EXIT_ROLLED_BACK,",
      "test_data_failures.py::test_a_failed_upgrade_whose_data_cannot_be_put_back_exits_4",
      after='f"ROLLBACK FAILED. {what_failed}, and {said}. Running now: "'),
    M("restore-data-not-put-back-exits-1", "commands/restore.py", "EXIT_ROLLBACK_FAILED,", "1,",
      "test_data_failures.py::test_a_restore_that_fails_and_cannot_put_the_data_back_exits_4"),
    M("dry-run-snapshot-writes-the-archive", "flows/datacopy.py", "if ctx.dry_run:", "if False:",
      "test_data_failures.py::test_dry_runs_of_the_data_paths_change_no_file_and_make_no_directory",
      after="def write_archive(ctx: Context, destination: str, manifest: Manifest, pause: bool) -> int:"),
    # waiting
    M("wait-ignores-a-restart-loop", "flows/waiting.py",
      'if state.get("Restarting") or query.restarts(document) > restarts_at_start:', "if False:",
      f"{FAILS_FAST}[restart-loop]"),
    M("wait-ignores-an-exit", "flows/waiting.py", 'if state.get("Status") in ("exited", "dead"):', "if False:",
      f"{FAILS_FAST}[exited]"),
    M("wait-ignores-unhealthy", "flows/waiting.py", 'if with_health and health == "unhealthy":', "if False:",
      f"{FAILS_FAST}[unhealthy]"),
    M("wait-skips-the-settle-time", "flows/waiting.py", "if now - up_since >= policy.settle:", "if True:",
      f"{SAFE}::test_a_default_start_stays_up_for_the_settle_time_before_it_returns"),
    M("wait-default-settle-shorter", "flows/waiting.py",
      "DEFAULT_SETTLE_SECONDS = 3.0", "DEFAULT_SETTLE_SECONDS = 0.5",
      f"{SAFE}::test_a_default_start_stays_up_for_the_settle_time_before_it_returns"),
    M("wait-lets-a-hung-engine-hold-it", "flows/waiting.py",
      "timeout = min(left + _ANSWER_GRACE_SECONDS, QUERY_TIMEOUT)", "timeout = QUERY_TIMEOUT",
      "test_interruptions.py::test_a_hung_engine_fails_the_start_soon_after_the_wait"),
    # stable
    M("stable-show-json-exits-0-unmarked", "commands/stable.py",
      "return EXIT_OK if recorded.stable else EXIT_FAILED", "return EXIT_OK",
      f"{SEED}::test_stable_with_nothing_running_is_a_clear_error"),
    M("stable-marks-one-of-two", "commands/stable.py", "if len(running) > 1:", "if False:",
      f"{SEED}::test_stable_refuses_to_choose_between_two_running"),
    M("stable-marks-an-unhealthy-one", "commands/stable.py",
      'if has_healthcheck(document) and health != "healthy":', "if False:",
      f"{TRUST}::test_stable_refuses_an_unhealthy_container"),
    # state
    M("state-reads-a-newer-schema", "store/state.py", "if schema > NEWEST_SCHEMA:", "if False:"),
    M("state-takes-another-familys-file", "store/state.py", 'if document.get("image") != family:', "if False:"),
    M("dry-run-saves-the-state", "flows/context.py", "if not self.dry_run:", "if True:",
      f"{TRUST}::test_a_dry_run_says_would_and_shows_what_it_would_do"),
    # locking
    M("lock-shared", "store/locking.py",
      "fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)", "fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)",
      "test_errors_and_concurrency.py::test_two_starts_at_once_wait_for_each_other"),
    M("dry-run-recorded-in-history", "flows/context.py", "if self.dry_run:", "if False:",
      f"{OBSERVE}::test_a_dry_run_takes_no_lock_and_never_waits",
      after="entry.started = time.time()"),
    M("forget-dry-run-takes-the-lock", "flows/context.py", "if self.dry_run:", "if False:",
      f"{SHARED}::test_forget_takes_the_engines_lock_like_every_change",
      after='inherit the local one while it is held. A dry run takes neither."""'),
    M("lock-not-inherited-by-docker", "flows/context.py",
      "self.docker.inherit_fds = (fd,)", "self.docker.inherit_fds = ()",
      "test_interruptions.py::test_kill_9_during_docker_run_keeps_the_lock_until_docker_is_done"),
    M("lock-file-0644", "store/locking.py",
      "fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o600)",
      "fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o644)",
      f"{TRUST}::test_every_file_and_directory_the_command_writes_is_the_users_alone"),
    # files
    M("files-0644", "store/files.py", "_PRIVATE = 0o600", "_PRIVATE = 0o644",
      f"{TRUST}::test_every_file_and_directory_the_command_writes_is_the_users_alone"),
    M("directories-0755", "store/paths.py", "os.mkdir(path, 0o700)", "os.mkdir(path, 0o755)",
      f"{TRUST}::test_every_file_and_directory_the_command_writes_is_the_users_alone"),
    # history
    M("history-records-every-failure-as-failed", "flows/context.py",
      'entry.outcome = getattr(error, "outcome", None) or _OUTCOME_BY_EXIT_CODE.get(',
      'entry.outcome = "failed" or _OUTCOME_BY_EXIT_CODE.get(',
      f"{SAFE}::test_an_image_that_exits_at_once_rolls_back"),
    M("history-oldest-last", "store/history.py", "newest_first.reverse()", "pass"),
    M("history-skips-failures", "flows/context.py", "self._finish(family, entry, error.exit_code)", "pass",
      "test_errors_and_concurrency.py::test_a_failing_build_records_nothing_but_its_failure"),
    # interruptions and secrets
    M("sigterm-not-handled", "core/signals.py",
      '_HANDLED = ("SIGINT", "SIGTERM", "SIGHUP")', '_HANDLED = ("SIGINT",)',
      "test_interruptions.py::test_a_signal_during_the_wait_rolls_back"),
    M("interrupted-start-not-rolled-back", "flows/switch.py",
      "except KeyboardInterrupt as interruption:", "except ZeroDivisionError as interruption:",
      "test_interruptions.py::test_a_signal_during_the_wait_rolls_back"),
    M("env-values-on-the-command-line", "flows/environment.py",
      'yield ["--env-file", f"/dev/fd/{fd}"], shown, (fd,)',
      'yield [w for k, v in env.items() for w in ("--env", f"{k}={v}")], shown, (fd,)',
      "test_interruptions.py::test_secrets_are_on_no_command_line"),
    M("image-by-bare-name", "engine/argv.py", 'return f"{family}:latest"', "return family"),
    M("container-output-raw", "core/output.py", "return text.translate(_CONTROLS)", "return text"),
    M("several-running-is-fine", "commands/status.py", 'report["ok"] = False', "pass",
      "test_interruptions.py::test_several_running_is_a_problem_for_status_and_one_start_repairs_it"),
    M("stable-marks-a-restarting-one", "commands/stable.py",
      'if status == "restarting" or (document.get("State") or {}).get("Restarting") or restarts:', "if False:",
      f"{TRUST}::test_stable_marks_only_a_container_that_is_up"),
    M("a-typo-creates-files", "flows/context.py",
      "if not creates and not _family_exists(family):", "if False:",
      f"{TRUST}::test_a_typo_creates_no_file_and_every_read_command_agrees"),
    # redaction
    M("redaction-keeps-env-equals-values", "core/redaction.py", 'return f"{option}={key}=***"', "return word"),
    M("dry-run-shows-env-values", "flows/environment.py",
      'shown = [word for key in sorted(env) for word in ("--env", key)]',
      'shown = [word for key in sorted(env) for word in ("--env", f"{key}={env[key]}")]',
      f"{SAFE}::test_env_reaches_the_container_and_never_dockervisors_output"),
    M("redaction-misses-what-repr-escapes", "core/redaction.py",
      "message = message.replace(word, hidden).replace(repr(word)[1:-1], hidden)",
      "message = message.replace(word, hidden)"),
    M("error-lines-not-redacted", "cli/__init__.py",
      "said = redact_message(error.message, args_list) if error.exit_code == EXIT_USAGE else error.message",
      "said = error.message"),
    # signals (tests/test_unit_signals.py)
    M("nohup-no-longer-ignored", "core/signals.py",
      "if number is not None and signal.getsignal(number) is not signal.SIG_IGN:", "if number is not None:"),
    M("signal-handlers-not-put-back", "core/signals.py", "signal.signal(number, handler)", "pass"),
    M("signal-raised-inside-a-deferred-block", "core/signals.py", "if _depth() == 0:", "if True:"),
    # archives: every member a restore could write outside the mount point (tests/test_unit_archive.py)
    M("archive-symlink-to-dotdot", "store/members.py",
      'return resolved != ".." and not resolved.startswith("../")', 'return not resolved.startswith("../")'),
    M("archive-absolute-symlink", "store/members.py",
      'if not linkname or linkname.startswith("/") or "\\0" in linkname:', 'if not linkname or "\\0" in linkname:'),
    M("archive-hard-link-to-the-mount-point", "store/members.py", 'if target == ".":', "if False:"),
    M("archive-hard-link-through-a-symlink", "store/members.py", "self._not_below_a_link(target, where)", "pass"),
    M("archive-written-through-a-symlink", "store/members.py", "self.symlinks.add(relative)", "pass"),
    M("archive-block-device-allowed", "store/members.py",
      "_ALLOWED_TYPES = (tarfile.REGTYPE, tarfile.AREGTYPE, tarfile.DIRTYPE, tarfile.SYMTYPE,",
      "_ALLOWED_TYPES = (tarfile.REGTYPE, tarfile.AREGTYPE, tarfile.DIRTYPE, tarfile.SYMTYPE, tarfile.BLKTYPE,"),
    M("archive-block-device-not-called-a-device", "store/members.py",
      'what = "a device file" if member.ischr() or member.isblk() else "of a kind dockervisor does not restore"',
      'what = "a device file" if member.ischr() else "of a kind dockervisor does not restore"'),
    M("archive-dotdot-member", "store/members.py",
      'or any(part in ("", ".", "..") for part in parts)', 'or any(part in ("", ".") for part in parts)'),
    M("archive-mount-point-twice", "store/members.py",
      "raise DockervisorError(f\"{where}: the mount point's directory appears twice\")", "pass"),
    # snapshots: retention and dry runs (tests/test_unit_snapshots.py)
    M("retention-removes-the-protected", "flows/snapshots.py",
      "if snapshot.path in protect or (stables and snapshot is stables[0]):",
      "if stables and snapshot is stables[0]:"),
    M("retention-removes-the-stables-newest", "flows/snapshots.py",
      "if snapshot.path in protect or (stables and snapshot is stables[0]):", "if snapshot.path in protect:"),
    M("retention-keeps-the-stables-oldest", "flows/snapshots.py",
      "if snapshot.path in protect or (stables and snapshot is stables[0]):",
      "if snapshot.path in protect or (stables and snapshot is stables[-1]):",
      "test_data.py::test_snapshots_are_kept_to_snapshots_keep_and_the_stables_newest"),
    M("snapshot-protects-only-itself", "flows/snapshots.py",
      "prune(ctx, family, protect=(path, *protect))", "prune(ctx, family, protect=(path,))"),
    M("restore-does-not-protect-its-snapshot", "flows/datasteps.py",
      "protect = (self.restore.path,) if self.restore else ()", "protect = ()"),
    M("dry-run-snapshot-makes-directories", "flows/snapshots.py", "if not ctx.dry_run:", "if True:"),
    M("dry-run-snapshot-pauses", "flows/snapshots.py",
      "pause = datacopy.is_running(document) and not ctx.dry_run", "pause = datacopy.is_running(document)"),
    # state directories
    M("state-directory-raced-in-is-trusted", "store/paths.py", "return os.lstat(path)", "return None"),
    # engines: the engine's lock and rolling starts (tests/test_unit_engines.py)
    M("engine-lock-owner-ignores-the-state-directory", "flows/enginelock.py",
      'return hashlib.sha256(machine + b"\\0" + paths.state_root().encode()).hexdigest()[:32]',
      "return hashlib.sha256(machine).hexdigest()[:32]"),
    M("engine-lock-taken-over-from-anyone", "flows/enginelock.py",
      'if document is None or labels.get(f"{docker_argv.LOCK_LABEL}.owner") != owner_label():',
      "if document is None:"),
    M("engine-lock-takeover-leaves-the-old-lock", "flows/enginelock.py",
      'docker.change(docker_argv.remove_lock(str(document["Id"])), check=False, timeout=QUERY_TIMEOUT)', "pass"),
    M("rolling-start-goes-on-after-a-failure", "flows/fleet.py", "if any(r.code != EXIT_OK for r in done):", "if False:"),
    M("rolling-start-exits-0-after-a-failure", "flows/fleet.py",
      "return failed[0] if failed else EXIT_OK", "return EXIT_OK"),
    M("rolling-start-says-untouched-hosts-started", "flows/fleet.py",
      'rows.append([engine.name, "-", "not touched"])', 'rows.append([engine.name, "-", "started"])'),
    # if-changed
    M("if-changed-with-two-running", "commands/start.py", "if len(running) != 1:", "if not running:"),
    M("if-changed-ignores-the-configuration", "commands/start.py",
      'if ((document.get("Config") or {}).get("Labels") or {}).get(docker_argv.CONFIG_LABEL) != digest:', "if False:"),
    # dry-run
    M("dry-run-prints-unquoted", "engine/executor.py",
      "self._show(shown or argv)",
      'print(" ".join(shown or argv), file=self.stdout, flush=True)',
      f"{OBSERVE}::test_every_dry_run_command_does_what_it_says_when_pasted"),
    M("dry-run-prints-the-build-unquoted", "engine/executor.py",
      "print(shlex.join(self.full(argv)), file=self.stdout, flush=True)",
      'print(" ".join(self.full(argv)), file=self.stdout, flush=True)',
      f"{OBSERVE}::test_every_dry_run_command_does_what_it_says_when_pasted"),
    # output
    M("status-keeps-the-family-prefix", "commands/status.py",
      'return name.removeprefix(f"{CONTAINER_PREFIX}{family}_")', "return name",
      f"{OBSERVE}::test_status_columns_tell_containers_apart_without_the_family_prefix"),
    M("status-last-not-shown-as-running", "commands/status.py",
      'return "running"', "return _short_name(marked, image)",
      f"{OBSERVE}::test_status_columns_tell_containers_apart_without_the_family_prefix"),
    M("list-forgets-the-last-mark", "commands/list.py",
      '"last": c.name == recorded.last,', '"last": False,',
      f"{OBSERVE}::test_list_containers_columns"),
    M("tables-cut-in-a-pipe", "core/output.py", "return None", "return DEFAULT_WIDTH",
      f"{OBSERVE}::test_list_containers_newest_first_with_marks"),
    # issue 18: output and rollback
    M("a-bug-skips-the-rollback", "flows/switch.py",
      "except Exception as error:  # a bug: the rollback first, then its traceback",
      "except NotImplementedError as error:",
      f"{FAULTS}::test_a_bug_after_the_first_change_rolls_back_before_its_traceback"),
    M("rollback-names-nothing-on-stdout", "flows/switch.py", "_say_running(ctx, [previous])", "pass",
      f"{FAULTS}::test_start_new_fails_at_every_call_and_one_container_runs"),
    M("full-disk-names-the-new-last", "flows/switch.py",
      "recorded, family.last = family.last, target", "family.last = recorded = target",
      f"{FAULTS}::test_a_full_disk_after_the_start_names_the_last_still_recorded"),
    M("a-failed-write-ends-every-command", "core/streams.py", "if self.strict:", "if True:",
      f"{CLOSED}::test_changes_finish_and_are_recorded_whatever_happens_to_the_output"),
    M("changes-stop-when-the-reader-goes", "cli/__init__.py",
      "out.strict = err.strict = read_only  # type: ignore[attr-defined]",
      "out.strict = err.strict = True  # type: ignore[attr-defined]",
      f"{CLOSED}::test_changes_finish_and_are_recorded_whatever_happens_to_the_output"),
    M("help-exits-0-to-a-gone-reader", "cli/__init__.py",
      "if out.strict and (out.gone or err.gone):  # argparse drops a failed write",
      "if False:", f"{CLOSED}::test_a_reader_that_goes_away_ends_a_read_only_command_quietly"),
    M("closed-stderr-not-reopened", "core/streams.py", "os.open(os.devnull, os.O_RDWR)", "pass",
      f"{CLOSED}::test_changes_finish_and_are_recorded_whatever_happens_to_the_output"),
    M("restart-loop-reads-as-running", "commands/status.py",
      'if restarts and report["state"] == "running":', 'if restarts and report["state"] == "exited":',
      f"{LOOPS}::test_a_crash_loop_is_never_ok_however_often_status_looks"),
    M("mistyped-option-value-shown", "core/redaction.py",
      'return word if option in _KEY_OPTIONS else f"{option}=***"', "return word"),
    M("mistyped-option-next-word-shown", "core/redaction.py",
      'message = message.replace(f"{word} {following}", f"{word} ***")', "pass"),
    M("start-mode-typo-not-named", "cli/lifecycle.py", "_refuse_mode_typo(words)", "pass"),
    # issue 18: data
    M("archive-tar-errors-escape", "store/archive.py",
      "except _READ_ERRORS as error:", "except OSError as error:",
      "test_unit_damaged.py::test_a_fuzzed_archive_never_escapes_as_anything_but_damaged"),
    M("snapshot-cut-short-listed", "flows/snapshots.py",
      "manifest = archive.read_manifest_and_end(path)", "manifest = archive.read_manifest(path)",
      "test_data_recovery.py::test_damaged_files_are_reported_by_every_command_that_meets_them"),
    M("snapshot-retention-fails-the-start", "flows/snapshots.py",
      'ctx.info(f"warning: {error.message}")', "raise",
      "test_unit_damaged.py::test_a_snapshot_that_cannot_be_removed_is_a_warning_not_a_failure"),
    M("no-repair-after-a-kill", "flows/context.py",
      "self.repair(self, family, action)", "pass",
      "test_data_recovery.py::test_a_restore_killed_mid_way_is_put_back_by_the_next_command"),
    M("journal-without-the-snapshot-before", "flows/datasteps.py",
      "self._journal(before=self.taken.path)  # whole on disk: from here on, the way back", "pass",
      "test_data_recovery.py::test_a_restore_killed_mid_way_is_put_back_by_the_next_command"),
    M("journal-closed-by-a-dead-run", "store/journal.py",
      "return journal.pid != os.getpid() and is_alive(journal.pid, journal.started)", "return True",
      "test_data_recovery.py::test_a_restore_killed_mid_way_is_put_back_by_the_next_command"),
    M("repair-leaves-the-new-container-writing", "flows/datarecovery.py",
      "ctx.docker.change(docker_argv.stop(running))", "pass",
      "test_data_recovery.py::test_an_upgrade_killed_after_its_snapshot_goes_back_to_what_ran"),
    M("repair-does-not-start-again", "flows/datarecovery.py",
      "done.extend(_start_again(ctx, interrupted.running, image))", "pass",
      "test_data_recovery.py::test_an_upgrade_killed_after_its_snapshot_goes_back_to_what_ran"),
    M("repair-leaves-it-paused", "flows/datarecovery.py",
      "ctx.docker.change(docker_argv.unpause(interrupted.pause))", "pass",
      "test_data_recovery.py::test_a_backup_killed_while_paused_is_unpaused_by_the_next_command"),
    M("backup-writes-no-journal", "commands/backup.py",
      "_journal(ctx, family, path, source if paused else None)", "pass",
      "test_data_recovery.py::test_a_backup_killed_while_paused_is_unpaused_by_the_next_command"),
    M("status-silent-on-paused", "commands/status.py", "_note_paused(ctx, reports)", "pass",
      "test_data_recovery.py::test_a_backup_killed_while_paused_is_unpaused_by_the_next_command"),
    M("partials-of-dead-runs-kept", "flows/datarecovery.py",
      'if match is None or _run_is_alive(int(match.group("pid"))):', "if True:",
      "test_unit_journal.py::test_partial_archives_of_runs_that_are_gone_are_swept"),
    M("dry-run-writes-a-journal", "flows/datarecovery.py", "if ctx.dry_run:", "if False:",
      "test_data_recovery.py::test_an_upgrade_killed_after_its_snapshot_goes_back_to_what_ran"),
    M("a-failed-repair-closes-its-journal", "store/journal.py", "if journal.killed:", "if False:",
      "test_unit_journal.py::test_a_failed_repair_is_recorded_and_kept_for_the_next_command"),
    M("journal-leftovers-kept", "flows/datarecovery.py",
      'if match is not None and not _run_is_alive(int(match.group("pid"))):', "if False:",
      "test_unit_journal.py::test_partial_archives_of_runs_that_are_gone_are_swept"),
    M("a-reused-pid-passes-for-the-killed-run", "store/journal.py",
      'return fields[0] != b"Z" and (started is None or _start_of(fields) in (None, started))',
      'return fields[0] != b"Z"',
      "test_unit_journal.py::test_a_pid_given_to_a_later_process_does_not_close_a_journal"),
    M("journal-only-once-the-old-container-stopped", "flows/datasteps.py",
      "return DataStep(family, containers, entry, datacopy.helper_image(ctx, family.image)).begin(ctx, containers)",
      "return DataStep(family, containers, entry, datacopy.helper_image(ctx, family.image))",
      "test_data_recovery.py::test_an_upgrade_killed_while_it_stops_the_old_container_starts_it_again"),
    # issue 19: ownership
    M("owner-label-not-checked", "flows/ownership.py",
      "if (me is not None and container.owner == me.id) or container.id in adopted:", "if True:",
      f"{SHARED}::test_another_state_directory_touches_nothing_and_says_why"),
    M("unlabelled-always-members", "flows/ownership.py", "if container.owner or not known:", "if not known:",
      f"{SHARED}::test_a_hand_made_container_and_its_volume_survive_the_familys_housekeeping"),
    M("hand-made-taken-for-older", "flows/ownership.py",
      "return me is None or (created is not None and created < me.since)", "return True",
      f"{SHARED}::test_a_hand_made_container_and_its_volume_survive_the_familys_housekeeping"),
    M("older-versions-lost", "flows/ownership.py",
      "return me is None or (created is not None and created < me.since)", "return False",
      f"{SHARED}::test_containers_of_an_older_version_stay_managed"),
    M("containers-made-without-owner", "engine/argv.py",
      '*(["--label", f"{OWNER_LABEL}={owner}"] if owner else []),', "*([]),",
      f"{SHARED}::test_another_state_directory_touches_nothing_and_says_why"),
    M("membership-not-applied", "flows/context.py",
      "return ownership.members(containers, family, me, known, adopted)", "return containers",
      f"{SHARED}::test_another_state_directory_touches_nothing_and_says_why"),
    M("prune-every-family-on-the-engine", "commands/prune.py", "return state.known_families()",
      "return sorted({c.family for c in engine.all_labelled_containers(ctx.docker)})",
      f"{SHARED}::test_another_state_directory_touches_nothing_and_says_why"),
    M("forget-volumes-found-on-containers", "commands/forget.py",
      "wanted = sorted(v for v in named if is_volume_name(v))",
      "wanted = sorted(v for v in named | set(removal.volumes) if is_volume_name(v))"),
    M("forget-keeps-a-used-tag", "config/retention.py",
      "if user is not None and other_tags and own_tag in tags:", "if False:"),
    M("start-a-strangers-container", "commands/start.py",
      "if not any(c.name == name for c in containers):", "if False:",
      f"{SHARED}::test_a_hand_made_container_and_its_volume_survive_the_familys_housekeeping"),
    M("same-engine-by-raw-address", "engine/contexts.py",
      "same = next((e for e in engines if identity_of(e.endpoint) == identity_of(engine.endpoint)), None)",
      "same = next((e for e in engines if e.key == engine.key), None)"),
    M("forget-without-the-engines-lock", "commands/forget.py", "with ctx.family_held(family):",
      "with open(os.devnull):",
      f"{SHARED}::test_forget_takes_the_engines_lock_like_every_change"),
    M("adopt-records-nothing", "commands/adopt.py",
      "recorded.adopted = sorted({*recorded.adopted, *found})", "pass",
      f"{SHARED}::test_adopt_lets_another_state_directory_manage_the_family"),
    # outcome documents and notifications (issue 21)
    M("outcome-json-prints-the-name-too", "cli/parsing.py",
      "if reporting.json:  # stdout gets the document; the names (or dry-run commands) wait here",
      "if False:", f"{OUTCOME}::test_a_good_start_and_a_stop_give_their_documents"),
    M("rollback-not-in-the-document", "flows/context.py",
      "entry.outcome = getattr(error, \"outcome\", None) or _OUTCOME_BY_EXIT_CODE.get(",
      "entry.outcome = None or _OUTCOME_BY_EXIT_CODE.get(",
      f"{OUTCOME}::test_a_first_start_that_fails_has_nothing_to_roll_back_to_and_says_failed"),
    M("every-outcome-sent", "config/notifypolicy.py", 'return outcome not in ("ok", "no-op")', "return True",
      f"{OUTCOME}::test_a_rolled_back_start_is_sent_and_a_good_one_is_not"),
    M("no-notification-for-a-change", "flows/context.py", "self._notify(family, targets, said)", "pass",
      f"{OUTCOME}::test_a_rolled_back_start_is_sent_and_a_good_one_is_not"),
    M("failed-notification-not-recorded", "flows/context.py", "self._record(family, entry)", "pass",
      f"{OUTCOME}::test_dead_and_hanging_targets_change_nothing_but_a_warning",
      after="def _notify(self, family: str, targets: list, said: dict) -> None:"),
    M("no-overall-time-limit", "flows/notify.py", "thread.join(max(0.0, deadline - time.monotonic()))", "thread.join()"),
    M("a-url-shown-whole", "config/notifypolicy.py",
      "return f\"{parts.scheme}://{host}{f':{parts.port}' if parts.port else ''}/...\"",
      "return str(self.where)", f"{OUTCOME}::test_dead_and_hanging_targets_change_nothing_but_a_warning"),
    M("text-format-sends-json", "flows/notify.py",
      'if format == "text":  # ntfy and its kind: the message is the body, the title a header',
      "if False:", f"{OUTCOME}::test_the_family_notify_key_and_always"),
    M("a-failing-program-is-fine", "flows/notify.py", "if not result.ok:", "if False:",
      f"{OUTCOME}::test_a_failing_exec_is_a_warning_and_keeps_the_exit_code"),
    M("secrets-not-hidden", "flows/outcome.py", 'item = item.replace(secret, "[hidden]")', "pass"),
    M("an-unanswering-engine-is-not-told", "flows/reporting.py",
      "targets = self.targets(self.family, document[\"outcome\"]) if exit_code and not dry_run else []",
      "targets = []", f"{OUTCOME}::test_an_engine_that_does_not_answer_is_still_told"),
    M("family-notify-key-ignored", "commands/build.py",
      "family.notifications = overrides.notifications if overrides else None  # notify, notify_on",
      "family.notifications = None", f"{OUTCOME}::test_the_family_notify_key_and_always"),
    M("health-check-not-handed-to-docker", "config/healthcheck.py", 'argv = ["--health-cmd", check["test"][1]]',
      "argv = []", "test_health_checks.py::test_a_health_check_of_the_run_configuration_reaches_docker_and_gates_the_start"),
    M("health-check-exec-form-loses-arguments", "config/healthcheck.py", 'return ["CMD-SHELL", shlex.join(words)]',
      'return ["CMD-SHELL", words[0]]',
      "test_health_checks.py::test_a_health_check_of_the_run_configuration_reaches_docker_and_gates_the_start"),
    M("probe-never-asked", "flows/switch.py",
      "probe = self.family.run_config.options.probe if self.family.run_config else None", "probe = None",
      "test_health_checks.py::test_a_probe_that_answers_200_passes_and_one_that_answers_404_rolls_back"),
    M("a-404-is-an-answer", "flows/probe.py", 'return None if 200 <= status < 400 else f"it answered {status}"',
      "return None", "test_health_checks.py::test_a_probe_that_answers_200_passes_and_one_that_answers_404_rolls_back"),
    M("probation-not-watched", "flows/switch.py", "if failure is None and self.policy.probation:  # still watched: see start.py",
      "if False:", "test_probation.py::test_a_crash_within_the_probation_rolls_back"),
    M("promotion-forgotten", "flows/switch.py", "family.stable = target", "pass",
      "test_probation.py::test_a_good_container_passes_and_is_promoted"),
    M("family-probation-ignored", "commands/start.py",
      "policy.probation = config.options.probation or 0 if policy.probation is None else policy.probation",
      "policy.probation = policy.probation or 0",
      "test_probation.py::test_the_family_keys_and_the_command_line_that_turns_them_off"),
    M("retention-pushes-the-way-back-out", "commands/prune.py",
      "previous = next((c.name for c in before if c.active), None)  # what the start stopped: the way back",
      "previous = None", "test_probation.py::test_failed_starts_never_push_the_way_back_out"),
    M("notify-token-in-the-history", "core/redaction.py", "shown.append(target_shown(word))", "shown.append(word)",
      f"{OUTCOME}::test_a_rolled_back_start_is_sent_and_a_good_one_is_not"),
    M("a-signal-while-notifying-changes-the-exit-code", "flows/context.py",
      'with signals.deferred("sending the notifications first", resume=False):', "if True:",
      f"{OUTCOME}::test_a_signal_while_notifying_keeps_the_exit_code_of_the_change"),
    # release steps and one-off containers (issue 22)
    M("after-stop-release-failure-ignored", "flows/switch.py", "failure = self.release.run()", "self.release.run()",
      f"{RELEASE}::test_after_stop_a_failed_release_puts_the_data_and_the_old_container_back"),
    M("release-always-after-the-stop", "commands/start.py",
      'if step is not None and step.policy.when == "before-stop":', "if False:",
      f"{RELEASE}::test_a_release_runs_from_the_new_image_while_the_old_container_serves"),
    M("release-before-stop-failure-ignored", "commands/start.py", "if failure is None:", "if True:",
      f"{RELEASE}::test_a_failed_release_changes_nothing_else"),
    M("release-on-every-engine", "commands/start.py",
      'if policy is None or asked == "skip" or (asked == "ran" and policy.on != "each"):',
      'if policy is None or asked == "skip":'),
    M("a-timed-out-release-succeeds", "flows/release.py", "if ended.exit_code == 0:",
      "if ended.exit_code in (0, None):", f"{RELEASE}::test_a_release_past_its_time_limit_is_stopped_and_fails"),
    M("one-off-not-removed", "flows/oneoff.py", "if not self.created or self.ctx.dry_run:", "if True:",
      f"{RELEASE}::test_a_release_past_its_time_limit_is_stopped_and_fails"),
    M("one-off-outlives-a-kill", "engine/oneoffs.py", 'DOCKER, "create", "--rm",', 'DOCKER, "create",',
      f"{RELEASE}::test_kill_9_during_an_after_stop_release_is_repaired_by_the_next_command"),
    M("after-stop-release-without-journal", "flows/release.py", "journal.write()", "pass",
      f"{RELEASE}::test_kill_9_during_an_after_stop_release_is_repaired_by_the_next_command"),
    M("release-output-shows-secrets", "flows/oneoff.py",
      "code, tail = ctx.docker.attached(start, timeout, shown=lambda line: str(hide(line, env.values())))",
      "code, tail = ctx.docker.attached(start, timeout)",
      f"{RELEASE}::test_the_release_sees_the_environment_with_no_value_on_a_command_line"),
    M("one-off-takes-the-family-labels", "engine/oneoffs.py",
      'SKIPPED_OPTIONS = ("network", "labels", "healthcheck")', 'SKIPPED_OPTIONS = ("network", "healthcheck")'),
    M("every-engine-told-to-run-the-release", "flows/fleet.py",
      'args.release = "ran"  # the next engines skip a release that runs on the first one only', "pass",
      "test_engines.py::test_a_release_runs_on_the_first_engine_of_a_rolling_start_unless_on_each"),
    M("release-recorded-under-the-old-schema", "store/state.py",
      "return RELEASE_SCHEMA if self.release else ADOPTION_SCHEMA if self.adopted else SCHEMA_VERSION",
      "return ADOPTION_SCHEMA if self.adopted else SCHEMA_VERSION"),
    M("update-policy-under-the-old-schema", "store/state.py", "return UPDATE_SCHEMA", "return RELEASE_SCHEMA"),
    M("attached-without-a-time-limit", "engine/executor.py", "if left <= 0:", "if False:"),
    M("run-last-is-stable", "commands/run.py", 'name = recorded.last if which == "last" else recorded.stable',
      "name = recorded.stable", f"{RELEASE}::test_run_from_the_image_of_another_member"),
    M("run-exit-code-lost", "cli/observe.py",
      "return run_in_setting(context(args), args.image, args.command, args.image_of, args.interactive, args.tty)",
      "run_in_setting(context(args), args.image, args.command, args.image_of, args.interactive, args.tty); return 0",
      f"{RELEASE}::test_run_passes_stdin_stdout_and_the_exit_code_and_leaves_nothing"),
    # the rest of docker run's options (issue 24)
    M("restart-key-ignored", "engine/argv.py", '"--restart", config.options.restart or RESTART_POLICY,',
      '"--restart", RESTART_POLICY,', f"{PROCESS}::test_restart_no_leaves_a_crashed_container_exited"),
    M("entrypoint-words-dropped", "engine/argv.py",
      "return argv + (env_args or []) + [tag(family), *(config.options.entrypoint or [])[1:], *config.options.command]",
      "return argv + (env_args or []) + [tag(family), *config.options.command]",
      f"{PROCESS}::test_a_custom_entrypoint_replaces_the_images_and_its_command"),
    M("one-off-entrypoint-words-dropped", "engine/oneoffs.py",
      'return argv + (env_args or []) + ["--", image, *(config.options.entrypoint or [])[1:], *command]',
      'return argv + (env_args or []) + ["--", image, *command]'),
    M("keep-as-a-string", "config/overrides.py", 'if isinstance(value, str) and value != "all":', "if False:"),
    M("any-capability-name", "config/hostaccess.py", "if not re.fullmatch(pattern, item):", "if False:"),
    M("no-closest-key", "config/overrides.py",
      "close = difflib.get_close_matches(str(key), KNOWN_KEYS, n=1, cutoff=0.6)", "close = []"),
    M("read-only-not-handed-over", "config/processoptions.py",
      'Option("read_only", read_only, lambda family, on: ["--read-only"] if on else [],',
      'Option("read_only", read_only, lambda family, on: [],',
      f"{PROCESS}::test_a_read_only_root_with_a_tmpfs_it_can_write_to"),
    M("ulimit-soft-and-hard-lost", "config/processoptions.py",
      "setting = f\"{limit['soft']}:{limit['hard']}\" if isinstance(limit, dict) else str(limit)",
      "setting = str(limit)", f"{PROCESS}::test_a_ulimit_and_a_working_directory_inside"),
    M("stop-time-beyond-dockervisors-wait", "config/processoptions.py",
      "if not 0 <= seconds <= MOST_STOP_SECONDS:", "if not 0 <= seconds:"),
    M("stop-timeout-not-handed-over", "config/processoptions.py",
      'Option("stop_timeout", stop_timeout, _number("--stop-timeout"),', 'Option("stop_timeout", stop_timeout, lambda f, v: [],',
      f"{PROCESS}::test_stop_timeout_is_what_docker_stop_waits"),
    M("host-shared-without-privileged-ok", "config/runoptions.py", "if sharing is not None:", "if False:"),
    M("compose-writes-despite-what-it-drops", "commands/config.py", "if converted.not_carried and not partial:",
      "if False:", f"{PROCESS}::test_a_compose_service_converts_to_a_family_docker_runs_the_same"),
    M("compose-overwrites-a-file", "commands/config.py",
      'with open(output, "x", encoding="utf-8") as handle:  # never over a file of the admin\'s',
      'with open(output, "w", encoding="utf-8") as handle:',
      f"{PROCESS}::test_a_compose_service_converts_to_a_family_docker_runs_the_same"),
    M("compose-port-address-lost", "config/compose.py", 'address = port.get("host_ip")', "address = None"),
    M("compose-minutes-as-seconds", "config/compose.py", "seconds = hours * 3600 + minutes * 60 + secs",
      "seconds = hours * 3600 + minutes + secs"),
    M("port-address-not-shown", "commands/status.py",
      'return None if host_ip in (None, "", "0.0.0.0", "::") else str(host_ip)', "return None",
      f"{OBSERVE}::test_status_of_several_families_and_a_port_bound_to_one_address"),
    M("status-of-the-first-family-only", "commands/status.py", "names = chosen", "names = chosen[:1]",
      f"{OBSERVE}::test_status_of_several_families_and_a_port_bound_to_one_address"),
    M("update-never-sees-a-new-digest", "flows/updates.py", "if found.running_digest == digest:", "if True:",
      f"{UPDATES}::test_update_with_nothing_new_changes_nothing_then_takes_a_push_that_check_saw_first"),
    M("cooldown-ignored", "flows/updates.py",
      "if policy is not None and policy.cooldown and now - first < policy.cooldown:", "if False:",
      f"{UPDATES}::test_a_cooldown_holds_back_a_fresh_push_until_its_digest_is_old_enough"),
    M("cooldown-clock-restarts", "store/seen.py", 'return document["seen"][digest]', "return now"),
    M("allow-ignores-its-range", "config/updatepolicy.py", "if seen[1][:fixed] != numbers[:fixed]:", "if False:",
      f"{UPDATES}::test_a_patch_policy_takes_a_patch_release_and_holds_back_a_minor_one"),
    M("update-pulls-the-tag-not-the-checked-digest", "commands/update.py",
      "pinned = registry.parse(found.target).pinned(found.digest)", "pinned = found.target",
      f"{UPDATES}::test_dry_run_of_an_update_pulls_nothing_and_records_nothing"),
    M("update-starts-a-stopped-family", "commands/update.py", "if found.running is None:", "if False:",
      f"{UPDATES}::test_a_stopped_family_is_pulled_and_stays_stopped"),
    M("one-failed-family-ends-the-update", "commands/update.py", "_say_failed(ctx, family, error)", "raise",
      f"{UPDATES}::test_an_unreachable_registry_fails_that_family_in_one_line_and_the_next_one_is_still_updated",
      after="codes.append(_update_one(ctx, family, policy, build_path, release))"),
    M("stable-mark-records-no-digest", "commands/stable.py",
      'entry.digest = next(iter(image.get("RepoDigests") or []), None)', "entry.digest = None",
      f"{UPDATES}::test_start_stable_runs_the_marked_digest_after_the_tag_moved_twice"),
    M("timer-carries-every-variable", "commands/timer.py",
      "carried.update({key: environ[key] for key in CARRIED if environ.get(key)})", "carried.update(environ)"),
    M("timer-overwrites-an-admins-unit", "commands/timer.py",
      "if not handle.readline().startswith(_MARK):", "if False:",
      f"{UPDATES}::test_timer_install_writes_units_systemd_accepts_and_the_crontab_line_runs_under_env_i"),
    M("every-registry-over-plain-http", "engine/registry.py",
      "return f\"{'http' if loopback else 'https'}://{domain}\"", 'return f"http://{domain}"'),
    M("digest-of-any-repository", "engine/registry.py",
      "if name == reference.name and _DIGEST.fullmatch(digest):", "if _DIGEST.fullmatch(digest):"),
    M("registry-token-not-sent", "engine/registry.py", "if self._authorization:", "if False:"),
    M("update-policy-not-recorded", "commands/build.py",
      "family.update = overrides.update if overrides else None  # update: cooldown, allow", "family.update = None",
      f"{UPDATES}::test_a_cooldown_holds_back_a_fresh_push_until_its_digest_is_old_enough"),
    M("update-policy-not-saved", "store/state.py",
      '**({"update": self.update.to_dict()} if self.update else {}),', "**{},"),
    M("status-shows-no-digest", "commands/status.py",
      'image_digests=(images.get(image_id) or {}).get("RepoDigests") or [],', "image_digests=[],",
      f"{UPDATES}::test_update_with_nothing_new_changes_nothing_then_takes_a_push_that_check_saw_first"),
    M("swarm-rollback-read-as-success", "engine/services.py", '"rollback_completed": ROLLED_BACK,',
      '"rollback_completed": DONE,', "test_swarm.py"),
    M("swarm-short-of-replicas-is-success", "engine/services.py",
      "if len(running_new) < max(wanted, 1) or len(running_new) != len(current):", "if False:"),
    M("swarm-unpinned-volume-accepted", "config/swarmpolicy.py", "if not volumes or policy.pinned():", "if True:",
      "test_swarm.py::test_a_named_volume_without_a_pinning_constraint_is_refused_at_build"),
    M("swarm-rollback-exits-0", "flows/servicestarts.py", "if reading.outcome == services.ROLLED_BACK:", "if False:",
      "test_swarm.py::test_a_broken_image_is_rolled_back_by_swarm_and_start_exits_3",
      after="reading = _wait(ctx, family, image, wanted, policy.timeout, before, scale_only=running_image == image)"),
    M("swarm-stop-then-start-last-loses-the-image-before", "flows/servicestarts.py",
      "if image != marks.image:", "if True:",
      "test_swarm.py::test_stable_then_start_stable_after_two_updates_runs_the_marked_digest"),
    M("swarm-option-dropped-without-a-word", "flows/servicestarts.py", "if set_options:", "if False:",
      "test_swarm.py::test_a_named_volume_without_a_pinning_constraint_is_refused_at_build"),
    M("swarm-first-create-not-settled", "flows/servicestarts.py",
      "if time.monotonic() - since[0] >= settle:", "if True:",
      "test_swarm.py::test_a_first_start_that_does_not_come_up_leaves_no_service"),
    M("swarm-start-stable-takes-the-newest", "commands/start.py",
      'image = (marks.previous if mark == "last" else marks.stable) if marks else None',
      'image = marks.image if marks else None',
      "test_swarm.py::test_stable_then_start_stable_after_two_updates_runs_the_marked_digest"),
    M("swarm-stop-forgets-the-count", "flows/servicestarts.py", "marks.stopped_replicas = count",
      "marks.stopped_replicas = 0",
      "test_swarm.py::test_stable_then_start_stable_after_two_updates_runs_the_marked_digest"),
    M("swarm-on-several-managers", "cli/__init__.py", "if is_a_service(family):", "if False:"),
    M("swarm-first-create-left-half-started", "flows/servicestarts.py",
      "ctx.docker.change(services.remove(family), check=False)", "pass",
      "test_swarm.py::test_a_first_start_that_does_not_come_up_leaves_no_service"),
    M("swarm-family-taken-for-containers", "commands/swarmguard.py", "return state.load(family).swarm is not None",
      "return False"),
    M("credentials-follow-a-redirect", "engine/registry.py", 'new.remove_header("Authorization")', "pass"),
    M("garbage-answer-is-a-traceback", "engine/registry.py",
      "except (OSError, ValueError, http.client.HTTPException) as error:  # a time-out, a refused",
      "except (OSError, ValueError) as error:  # a time-out, a refused"),
    M("loaded-family-followed-on-docker-hub", "flows/updates.py", 'if recorded.build.get("pulled") == "no":',
      "if False:"),
    M("held-back-still-starts", "commands/update.py", "if found.status != updates.AVAILABLE:  # nothing is pulled, nothing is started",
      "if False:", f"{UPDATES}::test_update_with_nothing_new_changes_nothing_then_takes_a_push_that_check_saw_first"),
    M("rolled-back-digest-retried", "flows/updates.py", "if failed is not None:", "if False:",
      f"{UPDATES}::test_a_broken_push_is_rolled_back_with_exit_3_and_the_outcome_says_so"),
    M("update-build-starts-a-stopped-family", "commands/update.py", "if not _runs(ctx, family):", "if False:",
      f"{UPDATES}::test_update_build_rebuilds_and_starts_only_what_changed"),
    M("timer-carries-a-newline", "commands/timer.py", """if re.search(r'[\\x00-\\x1f\\x7f"\\\\$`]', value):""", "if False:"),
    M("timer-for-any-family", "commands/timer.py", "_require_followed(family)", "pass",
      f"{UPDATES}::test_timer_install_writes_units_systemd_accepts_and_the_crontab_line_runs_under_env_i"),
]  # fmt: skip


def apply(root: Path, mutant: Mutant) -> str:
    """Change the mutant's line in the copy under `root`; returns the file's text before."""
    path = root / "dockervisor" / mutant.file
    text = path.read_text()
    lines = text.splitlines(keepends=True)
    found = [i for i, line in enumerate(lines) if line.strip() == mutant.original]
    if mutant.after:
        anchors = [i for i, line in enumerate(lines) if line.strip() == mutant.after]
        if len(anchors) != 1:
            raise LookupError(f"{mutant.name}: dockervisor/{mutant.file} has {len(anchors)} lines `{mutant.after}`")
        found = [i for i in found if i > anchors[0]][:1]
    if len(found) != 1:
        raise LookupError(f"{mutant.name}: dockervisor/{mutant.file} has {len(found)} lines `{mutant.original}`"
                          + (f" after `{mutant.after}`" if mutant.after else ""))  # fmt: skip
    line = lines[found[0]]
    indent = line[: len(line) - len(line.lstrip())]
    lines[found[0]] = indent + mutant.replacement + "\n"
    path.write_text("".join(lines))
    return text


def run_tests(root: Path, tests: list[str]) -> tuple[bool, str]:
    """(passed, what failed first) for the unit tests and `tests`, run from the copy."""
    for cache in (root / "dockervisor").rglob("__pycache__"):  # a same-size edit in the same second
        shutil.rmtree(cache)
    units = sorted(str(p.relative_to(root)) for p in (root / "tests").glob("test_unit_*.py"))
    argv = [sys.executable, "-m", "pytest", "-x", "-q", "-rfE", "-p", "no:cacheprovider",
            *units, *(f"tests/{t}" for t in tests)]  # fmt: skip
    env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1")
    try:
        done = subprocess.run(argv, cwd=root, env=env, capture_output=True, text=True, timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        return False, f"the tests did not end within {TIMEOUT}s"
    failed = re.findall(r"^(?:FAILED|ERROR) (\S+)", done.stdout, re.M)
    if done.returncode == 0:
        return True, ""
    return False, (failed[0] if failed else (done.stdout + done.stderr).strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("names", nargs="*", help="run only these mutants")
    parser.add_argument("--list", action="store_true", help="list the mutants and exit")
    parser.add_argument("--no-baseline", action="store_true", help="skip the run on the unchanged copy")
    args = parser.parse_args()
    unknown = set(args.names) - {m.name for m in MUTANTS}
    if unknown:
        parser.error(f"no such mutant: {', '.join(sorted(unknown))}")
    chosen = [m for m in MUTANTS if not args.names or m.name in args.names]
    if args.list:
        for m in chosen:
            print(f"{m.name}\n  dockervisor/{m.file}: {m.original}\n  -> {m.replacement}\n  "
                  f"tests: unit tests{''.join(', ' + t for t in m.tests)}")  # fmt: skip
        return 0

    with tempfile.TemporaryDirectory(prefix="dcvt-mutants-") as temporary:
        root = Path(temporary) / "repo"
        shutil.copytree(REPO, root, ignore=shutil.ignore_patterns(".git", "__pycache__", ".pytest_cache"))
        for mutant in chosen:  # every line is there before an hour is spent
            try:
                apply(root, mutant)
            except LookupError as error:
                print(f"mutants.py: stale mutant: {error}", file=sys.stderr)
                return 2
            finally:
                _restore_all(root)
        if not args.no_baseline:
            began = time.monotonic()
            tests = sorted({t for m in chosen for t in m.tests})
            passed, failure = run_tests(root, tests)
            print(f"baseline (no mutant): {'passed' if passed else 'FAILED ' + failure}"
                  f" in {time.monotonic() - began:.0f}s", flush=True)  # fmt: skip
            if not passed:
                return 2
        survived = []
        for mutant in chosen:
            began = time.monotonic()
            before = apply(root, mutant)
            try:
                passed, failure = run_tests(root, list(mutant.tests))
            finally:
                (root / "dockervisor" / mutant.file).write_text(before)
            seconds = time.monotonic() - began
            if passed:
                survived.append(mutant.name)
                print(f"SURVIVED  {mutant.name} ({seconds:.0f}s)", flush=True)
            else:
                print(f"caught    {mutant.name} by {failure} ({seconds:.0f}s)", flush=True)
    print(f"{len(chosen) - len(survived)} of {len(chosen)} mutants caught"
          + (f"; survived: {', '.join(survived)}" if survived else ""))  # fmt: skip
    return 1 if survived else 0


def _restore_all(root: Path) -> None:
    for path in (REPO / "dockervisor").rglob("*.py"):
        shutil.copyfile(path, root / path.relative_to(REPO))


if __name__ == "__main__":
    sys.exit(main())
