//go:build unix

package main

import (
	"os/signal"
	"syscall"
)

// limitFileSize makes writes past n bytes fail with EFBIG instead of
// killing the process with SIGXFSZ.
func limitFileSize(n int64) error {
	signal.Ignore(syscall.SIGXFSZ)
	return syscall.Setrlimit(syscall.RLIMIT_FSIZE, &syscall.Rlimit{Cur: uint64(n), Max: uint64(n)})
}

// asUser runs a child as another user (for tests run as root, which may
// write anywhere).
func asUser(uid, gid uint32) *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uid, Gid: gid}}
}
