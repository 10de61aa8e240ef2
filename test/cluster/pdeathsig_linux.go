package main

import (
	"os"
	"syscall"
)

// setParentDeathSignal asks the kernel to send sig to this process when the
// parent that spawned it dies, so a crashed test runner never leaks clusters.
func setParentDeathSignal(sig syscall.Signal) {
	ppid := os.Getppid()
	_, _, _ = syscall.RawSyscall(syscall.SYS_PRCTL, syscall.PR_SET_PDEATHSIG, uintptr(sig), 0)
	if os.Getppid() != ppid { // parent already gone before prctl took effect
		_ = syscall.Kill(os.Getpid(), sig)
	}
}
