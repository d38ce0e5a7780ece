"""Ctrl-C and SIGTERM stop a build at once, but never inside Python's import machinery."""
from __future__ import annotations

import contextlib
import os
import select
import signal
import sys
import threading
import types

import pytest

from publish.system import interrupt


@pytest.fixture
def gated_module(tmp_path):
    """Yield the name of a module whose import waits until the function yielded with it is called."""
    read, write = os.pipe()
    sys.modules["_publish_gate"] = types.SimpleNamespace(wait=lambda: os.read(read, 1))
    (tmp_path / "gated_by_test.py").write_text("import _publish_gate\n_publish_gate.wait()\n")
    sys.path.insert(0, str(tmp_path))
    try:
        yield "gated_by_test", lambda: os.write(write, b"x")
    finally:
        sys.path.remove(str(tmp_path))
        for name in ("gated_by_test", "_publish_gate"):
            sys.modules.pop(name, None)
        os.close(read)
        os.close(write)


def _sigint():
    signal.pthread_kill(threading.main_thread().ident, signal.SIGINT)


@contextlib.contextmanager
def _watching():
    with interrupt.restartable(), interrupt.cancellable():
        yield


# Ctrl-C in a build (cli), and a save during a build of publish watch (cancel(), Restart), which has no handled().
@pytest.mark.parametrize("stop, within, raised", [(_sigint, interrupt.handled, KeyboardInterrupt),
                                                  (interrupt.cancel, _watching, interrupt.Restart)],
                         ids=["Ctrl-C", "a restart of publish watch"])
def test_interrupt_while_waiting_on_anothers_import_comes_once_the_import_is_done(gated_module, stop, within,
                                                                                   raised):
    """The main thread waits inside importlib for a module another thread imports (as build.py's writers are)
    when the interrupt comes: raised there, it could leave importlib's locks taken and the process hung at exit."""
    name, release = gated_module
    importer = threading.Thread(target=__import__, args=(name,), daemon=True)
    importer.start()
    while name not in sys.modules:  # the other thread holds the module's lock, running its code
        select.select([], [], [], 0.01)
    main = threading.main_thread().ident

    def interrupt_the_wait():
        while sys._current_frames()[main].f_code.co_filename != "<frozen importlib._bootstrap>":
            select.select([], [], [], 0.01)
        stop()
        release()

    done = []
    with within():
        threading.Thread(target=interrupt_the_wait, daemon=True).start()
        with pytest.raises(raised):
            __import__(name)
            done.append(name)
            select.select([], [], [], 60)  # the interrupt, put off while importlib ran, comes here
    assert done == [name]
    importer.join()
