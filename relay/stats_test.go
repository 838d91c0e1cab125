package relay

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"syscall"
	"testing"

	rtmp "github.com/ertmp/rtmp"
)

func TestClassify(t *testing.T) {
	dial := &net.OpError{Op: "dial", Net: "tcp", Err: &os.SyscallError{Syscall: "connect", Err: syscall.ECONNREFUSED}}
	for _, c := range []struct {
		err  error
		want Failure
	}{
		{fmt.Errorf("rtmp: dial 127.0.0.1:1: %w", dial), FailUnreachable},
		{fmt.Errorf("rtmp: handshake with x: %w", context.DeadlineExceeded), FailTimeout},
		{&net.OpError{Op: "write", Net: "tcp", Err: os.ErrDeadlineExceeded}, FailTimeout},
		{fmt.Errorf("rtmp: TLS with x: %w", tls.AlertError(42)), FailTLS},
		{fmt.Errorf("rtmp: TLS with x: %w", &tls.CertificateVerificationError{Err: errors.New("unknown authority")}), FailTLS},
		{&rtmp.StatusError{Command: "publish", Code: "NetStream.Publish.BadName"}, FailRefused},
		{fmt.Errorf("relay: target closed the connection: %w", io.EOF), FailClosed},
		{&net.OpError{Op: "write", Net: "tcp", Err: &os.SyscallError{Syscall: "write", Err: syscall.EPIPE}}, FailClosed},
		{&net.OpError{Op: "read", Net: "tcp", Err: &os.SyscallError{Syscall: "read", Err: syscall.ECONNRESET}}, FailClosed},
		{errUpstreamEnded, FailUpstreamEnded},
		{errors.New("something else"), FailOther},
	} {
		if got := Classify(c.err); got != c.want {
			t.Errorf("Classify(%v) = %v, want %v", c.err, got, c.want)
		}
	}
	seen := map[string]bool{}
	for _, f := range Failures() {
		if seen[f.String()] {
			t.Errorf("two failures named %q", f)
		}
		seen[f.String()] = true
	}
	if len(seen) != int(numFailures) || Failure(numFailures).String() != fmt.Sprintf("failure(%d)", numFailures) {
		t.Errorf("failures %v", seen)
	}
}
