//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package serve

import (
	"runtime"
	"syscall"
)

// soReusePort is SO_REUSEPORT, which package syscall does not name on
// every system: 15 on Linux (asm-generic), 0x200 on Linux/MIPS and on the
// BSDs and macOS.
func soReusePort() int {
	if runtime.GOOS == "linux" {
		switch runtime.GOARCH {
		case "mips", "mipsle", "mips64", "mips64le":
			return 0x200
		}
		return 15
	}
	return 0x200
}

// reusePort sets SO_REUSEPORT on a socket before it binds: another process
// (a new ertmp) can then listen on the same address while this one
// drains; the kernel spreads new connections over the listeners until
// this one closes its own.
func reusePort(_, _ string, c syscall.RawConn) error {
	var serr error
	err := c.Control(func(fd uintptr) {
		serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, soReusePort(), 1)
	})
	if err != nil {
		return err
	}
	return serr
}
