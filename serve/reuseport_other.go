//go:build !(linux || darwin || freebsd || netbsd || openbsd || dragonfly)

package serve

import "syscall"

// reusePort does nothing where SO_REUSEPORT is not known: a restart on the
// same address then waits for the old process to close its listeners.
func reusePort(_, _ string, _ syscall.RawConn) error { return nil }
