"""`modelcheck splat`: kernel log text in every wrapping it arrives in, each
report kind, bad input, and the JSON shape.  The reports here are excerpts
of published ones (cited beside each); tests/test_splat_corpus.py runs the
whole corpus in tests/splats/."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest

from helpers import REPO
from modelcheck.splat import model, parse, verdict

SPLATS = REPO / "tests" / "splats"
TDR = (SPLATS / "amdgpu_tdr_console_lock.txt").read_text()
TDR_CLASSES = ["dma_fence_map", "fs_reclaim", "console_lock"]


def run(*args, stdin: str | None = None):
    return subprocess.run([sys.executable, "-m", "modelcheck", "splat", *args], input=stdin,
                          capture_output=True, text=True, cwd=REPO)


def _bare(text: str) -> list[str]:
    """The report with its timestamps taken off, as `dmesg -t` prints it."""
    return [parse._strip(ln) for ln in text.splitlines()]


# --- the wrappings ------------------------------------------------------------------

def test_timestamps_levels_and_dmesg_x_prefixes_are_all_the_same_report():
    plain = "\n".join(_bare(TDR))
    variants = {
        "timestamps": TDR,
        "none": plain,
        "levels": "\n".join("<4>" + ln for ln in TDR.splitlines()),
        "dmesg -x": "\n".join("kern  :warn  : " + ln for ln in TDR.splitlines()),
        "journal": "\n".join("Dec 14 06:35:48 host kernel: " + ln for ln in plain.splitlines()),
        "dmesg -d": "\n".join("[  +0.000224] " + ln for ln in plain.splitlines()),
        "caller ids": "\n".join("[  136.763714][ T1082] " + ln for ln in plain.splitlines()),
    }
    for name, text in variants.items():
        r = parse.parse(text)
        assert (r.kind, r.task, r.classes, r.missing) == \
            (parse.CIRCULAR, "kworker/2:3/682", TDR_CLASSES, []), name
        assert [h.cls for h in r.held][-1] == "&adev->lock_reset", name
        assert r.chain[1].frames[:2] == ["fs_reclaim_acquire.part.0", "kmem_cache_alloc_trace"], name


@pytest.mark.parametrize("quote", ["> ", ">> ", "> > ", ">"])
def test_mail_quoting(quote):
    r = parse.parse("On Thu, someone wrote:\n" + "\n".join(quote + ln for ln in TDR.splitlines()))
    assert r.classes == TDR_CLASSES and r.task == "kworker/2:3/682" and not r.missing


def test_wrapped_lock_lines_are_joined():
    # as a mailer wraps them: the address alone, or `, at:` on the next line
    text = TDR.replace("[  136.763716] ffffffff8226f140 (console_lock)",
                       "[  136.763716] ffffffff8226f140\n(console_lock)")
    text = text.replace("{+.+.}-{0:0}, at: drm_sched_job_timedout", "{+.+.}-{0:0},\n    at: drm_sched_job_timedout")
    r = parse.parse(text)
    assert r.trying.cls == "console_lock" and r.holding.at == "drm_sched_job_timedout"
    assert r.classes == TDR_CLASSES


def test_line_numbers_are_those_of_the_input():
    r = parse.parse("a line before\n" + TDR)
    assert r.line == 3 and r.trying.line == 7
    assert r.chain[0].line == 17                   # `-> #2 (dma_fence_map)`


def test_a_truncated_report_gives_a_skeleton_and_says_what_is_missing():
    cut = TDR[:TDR.index("-> #0 (console_lock)")]
    r = parse.parse(cut)
    assert [e.n for e in r.chain] == [2, 1]
    assert "the chain's entries below #1" in r.missing and "the stack backtrace" in r.missing
    spec = model.generate(r, "cut.txt")
    assert "# MISSING from the report: the chain's entries below #1" in spec.text
    assert any("lacks the stack backtrace" in w for w in spec.warnings)
    v = verdict.check(r, spec)                     # still a spec the checker takes
    assert v.result.complete
    p = run("-", stdin=cut)
    assert p.returncode in (0, 1) and "warning: a partial report" in p.stderr


def test_only_the_header_is_a_skeleton_with_a_warning():
    p = run("-", stdin="WARNING: possible circular locking dependency detected\n")
    assert p.returncode == 1
    assert "lacks the task line" in p.stderr and "Traceback" not in p.stderr
    assert 'spec "possible circular locking dependency detected"' in p.stdout


# --- bad input ----------------------------------------------------------------------

@pytest.mark.parametrize("text", ["", "hello\n", "\x00\xff binary", "INFO: task hung for more than 120 seconds\n"])
def test_text_without_a_report_is_exit_2_with_a_message(text):
    p = run("-", stdin=text)
    assert p.returncode == 2
    assert "no lockdep report found" in p.stderr and "Traceback" not in p.stderr
    assert p.stdout == ""


def test_unreadable_input_and_output():
    p = run("/nonexistent/splat.txt")
    assert p.returncode == 2 and "cannot read" in p.stderr and "Traceback" not in p.stderr
    p = run(str(SPLATS / "amdgpu_tdr_console_lock.txt"), "-o", "/nonexistent/dir/x.fspec")
    assert p.returncode == 2 and "cannot write" in p.stderr and "Traceback" not in p.stderr


# --- each report kind ---------------------------------------------------------------

RECURSIVE = """\
>   WARNING: possible recursive locking detected
>   --------------------------------------------
>   kworker/u128:0 is trying to acquire lock:
>   ffff88838b16e1f0 (reservation_ww_class_mutex){+.+.}-{4:4},
>     at: amdgpu_devcoredump_format+0x1594/0x23f0 [amdgpu]
>
>   but task is already holding lock:
>   ffff8882f82681f0 (reservation_ww_class_mutex){+.+.}-{4:4},
>     at: amdgpu_devcoredump_format+0x1594/0x23f0 [amdgpu]
>
>   Workqueue: events_unbound amdgpu_devcoredump_deferred_work [amdgpu]
>   Call Trace:
>    __ww_mutex_lock.constprop.0
>    ww_mutex_lock
>    amdgpu_bo_reserve
>    amdgpu_devcoredump_format+0x1594 [amdgpu]
>    amdgpu_devcoredump_deferred_work+0xea [amdgpu]
"""   # https://lore.kernel.org/amd-gfx/ (drm/amdgpu devcoredump: lock the IB BOs with drm_exec), as quoted in review

INCONSISTENT = """\
 WARNING: inconsistent lock state
 6.11.0 #3 Tainted: G        W
 --------------------------------
 inconsistent {IN-HARDIRQ-W} -> {HARDIRQ-ON-W} usage.
 ip/86 [HC0[0]:SC0[0]:HE1:SE1] takes:
 c3e54050 (&musb->lock){?.-.}-{2:2}, at: musb_g_giveback+0xf8/0x1d8
 {IN-HARDIRQ-W} state was registered at:
   lock_acquire+0x108/0x358
   _raw_spin_lock_irqsave+0x4c/0x68
   dsps_interrupt+0x28/0x278
   __handle_irq_event_percpu+0xa0/0x2f4
"""   # a musb report on linux-usb (2024), as quoted there

INVERSION = """\
=========================================================
[ INFO: possible irq lock inversion dependency detected ]
3.14.0-rc8-default #1 Not tainted
---------------------------------------------------------
kswapd0/169 just changed the state of lock:
(&delayed_node->mutex){+.+.-.}, at: [<ffffffffa018baea>] __btrfs_release_delayed_node+0x3a/0x200 [btrfs]
but this lock took another, RECLAIM_FS-unsafe lock in the past:
(&found->groups_sem){+++++.}
"""   # btrfs: fix lockdep warning with reclaim lock inversion (commit message, 2014)

SLEEPING = """\
BUG: sleeping function called from invalid context at kernel/locking/mutex.c:935
 in_atomic(): 1, irqs_disabled(): 0, non_block: 0, pid: 0, name: swapper/5
 1 lock held by swapper/5/0:
  #0: ffff80001002bd90 (samples/ftrace/sample-trace-array.c:38){+.-.}-{0:0}, at: call_timer_fn+0x8/0x3e0
 CPU: 5 PID: 0 Comm: swapper/5 Not tainted 5.7.0+ #8
 Hardware name: QEMU QEMU Virtual Machine, BIOS 0.0.0 02/06/2015
 Call trace:
  dump_backtrace+0x0/0x1a0
  show_stack+0x20/0x30
  dump_stack+0xe4/0x150
  ___might_sleep+0x160/0x200
  __might_sleep+0x58/0x90
  __mutex_lock+0x64/0x948
  mutex_lock_nested+0x3c/0x58
  __ftrace_set_clr_event+0x44/0x88
  trace_array_set_clr_event+0x24/0x38
  mytimer_handler+0x34/0x40 [sample_trace_array]
"""   # https://lkml.kernel.org/r/20200610011244.2209486-1-wangkefeng.wang@huawei.com


def _check(text):
    r = parse.parse(text)
    spec = model.generate(r, "t.txt")
    return r, spec, verdict.check(r, spec)


def test_circular():
    r, spec, v = _check(TDR)
    assert r.kind == parse.CIRCULAR and v.reproduced
    assert v.cycle_classes == TDR_CLASSES
    assert "prime fs_reclaim -> dma_fence_map" in spec.text
    assert "trylock adev_lock_reset else { return }" in spec.text


def test_recursive_resv_without_a_context():
    r, spec, v = _check(RECURSIVE)
    assert (r.kind, r.task, r.classes) == (parse.RECURSIVE, "kworker/u128:0", ["reservation_ww_class_mutex"])
    assert r.backtrace[:3] == ["__ww_mutex_lock.constprop.0", "ww_mutex_lock", "amdgpu_bo_reserve"]
    assert "lock bo\n" in spec.text and "lock bo2\n" in spec.text and "ww {" not in spec.text
    assert v.reproduced and v.cycle_classes == ["reservation_ww_class_mutex"]
    assert "deadlock" not in v.result.kinds
    assert any("same object" in ln for ln in v.lines)


def test_inconsistent_lock_state():
    r, spec, v = _check(INCONSISTENT)
    assert (r.kind, r.task, r.states) == (parse.INCONSISTENT, "ip/86", ["IN-HARDIRQ-W", "HARDIRQ-ON-W"])
    assert r.registered[2] == "dsps_interrupt"
    assert "irq dsps_interrupt {" in spec.text and "lock musb_lock : spinlock" in spec.text
    assert v.reproduced and v.cycle_classes == ["&musb->lock"]


def test_reclaim_lock_inversion_is_a_cycle_through_fs_reclaim():
    r, spec, v = _check(INVERSION)
    assert (r.kind, r.task, r.states) == (parse.INVERSION, "kswapd0/169", ["RECLAIM_FS"])
    assert r.classes == ["&delayed_node->mutex", "&found->groups_sem"] and r.unsafe
    assert "on reclaim {\n    lock delayed_node_mutex" in spec.text
    assert v.reproduced
    assert sorted(v.cycle_classes) == ["&delayed_node->mutex", "&found->groups_sem", "fs_reclaim"]


def test_irq_lock_inversion_is_a_deadlock_of_the_three_contexts():
    r, spec, v = _check(INVERSION.replace("RECLAIM_FS", "HARDIRQ"))
    assert r.states == ["HARDIRQ"] and "irq handler {" in spec.text
    assert v.reproduced and "deadlock" in v.result.kinds


def test_sleeping_function_called_from_invalid_context():
    r, spec, v = _check(SLEEPING)
    assert (r.kind, r.task, r.at) == (parse.SLEEPING, "swapper/5/0", "kernel/locking/mutex.c:935")
    assert r.classes == ["samples/ftrace/sample-trace-array.c:38"]
    assert r.backtrace[-1] == "mytimer_handler"
    assert "lock sleeping_mutex" in spec.text
    assert v.reproduced and "sleep-in-atomic" in v.result.kinds


# --- the output ---------------------------------------------------------------------

def test_json_shape():
    p = run(str(SPLATS / "amdgpu_tdr_console_lock.txt"), "--format", "json")
    assert p.returncode == 0, p.stderr
    d = json.loads(p.stdout)
    assert sorted(d) == ["cycle_classes", "files", "report", "reproduced", "spec"]
    assert d["report"] == {"kind": parse.CIRCULAR, "task": "kworker/2:3/682", "classes": TDR_CLASSES}
    assert d["reproduced"] is True and d["cycle_classes"] == TDR_CLASSES
    assert d["spec"] == (SPLATS / "amdgpu_tdr_console_lock.fspec").read_text()
    assert len(d["files"]) == 1 and d["files"][0]["lock_order"]["status"] == "cycle"


def test_text_output_and_dash_o(tmp_path):
    out = tmp_path / "m.fspec"
    p = run("-", "-o", str(out), stdin=TDR)
    assert p.returncode == 0, p.stderr
    assert out.read_text().startswith("# Generated by `modelcheck splat` from <stdin>")
    assert "reproduced: the model's lockdep cycle is the report's" in p.stdout
    assert "verdict: only a lockdep-level cycle" in p.stdout
    assert "fs_reclaim -> dma_fence_map is only primed at boot" in p.stdout
    assert "spec \"" not in p.stdout                    # the spec went to the file
    p = run("-", stdin=TDR)
    assert 'spec "possible circular locking dependency detected (kworker/2:3/682)"' in p.stdout


def test_class_names_become_spec_names():
    assert model.ident("&a6xx_gpu->gmu.lock") == "a6xx_gpu_gmu_lock"
    assert model.ident("(work_completion)(&(&sched->work_tdr)->work)") == "work_completion_sched_work_tdr_work"
    assert model.ident("&q->q_usage_counter(io)#25") == "q_q_usage_counter_io_25"
    assert model.ident("1lock") == "l_1lock"


def test_the_readme_example_becomes_a_deadlock_with_a_shrinker_waiting_in_reclaim():
    """README: the TDR cycle is lockdep-only until reclaim waits for a fence."""
    import modelcheck
    r = parse.parse(TDR)
    text = model.generate(r, "t.txt").text
    assert "deadlock" not in modelcheck.check_source(text).kinds
    assert "deadlock" in modelcheck.check_source(text + "on reclaim { wait job_fence }\n").kinds


def test_inconsistent_softirq_usage_is_a_handler_with_a_warning():
    text = INCONSISTENT.replace("HARDIRQ", "SOFTIRQ")
    r, spec, v = _check(text)
    assert r.states == ["IN-SOFTIRQ-W", "SOFTIRQ-ON-W"]
    assert any("softirq is modelled as an irq handler" in w for w in spec.warnings)
    assert v.reproduced


def test_inconsistent_reclaim_usage_is_a_lock_order_cycle_through_fs_reclaim():
    # the shape of pre-4.14 kernels' {IN-RECLAIM_FS-W} -> {RECLAIM_FS-ON-W}
    text = INCONSISTENT.replace("HARDIRQ", "RECLAIM_FS")
    r, spec, v = _check(text)
    assert "on reclaim {" in spec.text and "alloc kernel" in spec.text
    assert v.reproduced and sorted(v.cycle_classes) == ["&musb->lock", "fs_reclaim"]


QUOTED_PRINTABLE = """\
> > > > [  132.583381] =3D=3D=3D=3D=3D=3D=3D=3D=3D=3D=3D=3D=3D=3D=3D=3D=3D=
=3D=3D=3D=3D=3D=3D=3D=3D=3D=3D=3D=3D=3D=3D=3D=3D=3D=3D=3D=3D=3D=3D=3D=3D=3D=
=3D=3D=3D=3D=3D=3D=3D=3D=3D=3D=3D=3D
> > > > [  132.584091] WARNING: possible circular locking dependency detect=
ed
> > > > [  132.584775] 5.7.0-rc3+ #346 Tainted: G        W
> > > > [  132.585461] ----------------------------------------------------=
--
> > > > [  132.586184] kworker/2:3/865 is trying to acquire lock:
> > > > [  132.586857] ffffc90000677c70 (crtc_ww_class_acquire){+.+.}-{0:0}=
, at: drm_atomic_helper_suspend+0x38/0x120 [drm_kms_helper]
> > > > [  132.587569]
> > > >                but task is already holding lock:
> > > > [  132.589044] ffffffff82318c80 (dma_fence_map){++++}-{0:0}, at: dr=
m_sched_job_timedout+0x25/0xf0 [gpu_sched]
"""   # a reply quoting Daniel Vetter's TDR/modeset splat, as the archive keeps the mail (2020-06)


def test_a_quoted_printable_mail_body_is_decoded():
    r = parse.parse(QUOTED_PRINTABLE)
    assert (r.kind, r.task) == (parse.CIRCULAR, "kworker/2:3/865")
    assert (r.trying.cls, r.trying.at) == ("crtc_ww_class_acquire", "drm_atomic_helper_suspend")
    assert (r.holding.cls, r.holding.at) == ("dma_fence_map", "drm_sched_job_timedout")
    # and an `=` in a plain log is left alone
    assert parse.parse(TDR.replace(" W\n", " W a=b c=d e=f\n", 1)).classes == TDR_CLASSES


def test_the_readme_worked_example_is_current(tmp_path):
    readme = (REPO / "README.md").read_text()
    head = "$ modelcheck splat tests/splats/amdgpu_tdr_console_lock.txt -o tdr.fspec\n"
    start = readme.index(head) + len(head)
    shown = readme[start:readme.index("```\n", start)]
    p = subprocess.run([sys.executable, "-m", "modelcheck", "splat", str(SPLATS / "amdgpu_tdr_console_lock.txt"),
                        "-o", "tdr.fspec"], cwd=tmp_path, capture_output=True, text=True)
    assert shown == p.stdout
