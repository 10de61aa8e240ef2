//go:build !linux

package main

import "syscall"

func setParentDeathSignal(syscall.Signal) {}
