//go:build !unix

package main

import (
	"errors"
	"syscall"
)

func limitFileSize(int64) error { return errors.New("no RLIMIT_FSIZE on this platform") }

func asUser(uid, gid uint32) *syscall.SysProcAttr { return nil }
