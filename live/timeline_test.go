package live

import (
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"testing"

	rtmp "github.com/ertmp/rtmp"
	"github.com/ertmp/rtmp/chunk"
)

func TestTimeline(t *testing.T) {
	type step struct {
		restart bool
		in      uint32
		want    int64
	}
	for _, tc := range []struct {
		name  string
		steps []step
	}{
		{"first publisher keeps its timestamps", []step{{in: 0, want: 0}, {in: 40, want: 40}, {in: 23, want: 23}, {in: 80, want: 80}}},
		{"starts late, not rebased", []step{{in: 5000, want: 5000}, {in: 5040, want: 5040}}},
		{"wraps past 2^32 (RFC 1982)", []step{{in: 0xFFFFFFF0, want: 0xFFFFFFF0}, {in: 0x10, want: 0x100000010}, {in: 0xFFFFFFFF, want: 0xFFFFFFFF}, {in: 0x20, want: 0x100000020}}},
		{"republish continues after the last output", []step{{in: 0, want: 0}, {in: 1000, want: 1000}, {restart: true, in: 0, want: 1001}, {in: 40, want: 1041}}},
		{"republish never goes before the last output", []step{{in: 100, want: 100}, {in: 2000, want: 2000}, {restart: true, in: 50, want: 2001}, {in: 10, want: 2000}, {in: 90, want: 2041}}},
		{"never negative", []step{{in: 10, want: 10}, {in: 0xFFFFFFFF - 100, want: 0}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var tl timeline
			for i, s := range tc.steps {
				if s.restart {
					tl.restart()
				}
				if got := tl.next(s.in); got != s.want {
					t.Fatalf("step %d: next(%d) = %d, want %d", i, s.in, got, s.want)
				}
			}
		})
	}
}

func TestReasonString(t *testing.T) {
	want := map[Reason]string{ReasonNone: "none", ReasonClientClosed: "client closed", ReasonRejected: "rejected",
		ReasonProtocolError: "protocol error", ReasonTimeout: "timeout", ReasonSlowConsumer: "slow consumer",
		ReasonPublisherGone: "publisher gone", ReasonShutdown: "shutdown", ReasonReplaced: "replaced", Reason(200): "reason(200)"}
	for r, s := range want {
		if r.String() != s {
			t.Errorf("%d.String() = %q, want %q", r, r.String(), s)
		}
	}
}

type timeoutErr struct{}

func (timeoutErr) Error() string   { return "i/o timeout" }
func (timeoutErr) Timeout() bool   { return true }
func (timeoutErr) Temporary() bool { return true }

func TestReasonFor(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want Reason
	}{
		{nil, ReasonClientClosed},
		{io.EOF, ReasonClientClosed},
		{fmt.Errorf("chunk: csid 6: %w", io.ErrUnexpectedEOF), ReasonProtocolError}, // cut inside a message
		{fmt.Errorf("rtmp: write: %w", net.ErrClosed), ReasonClientClosed},
		{rtmp.ErrSessionClosed, ReasonClientClosed},
		{&net.OpError{Op: "read", Err: timeoutErr{}}, ReasonTimeout},
		{os.ErrDeadlineExceeded, ReasonTimeout},
		{fmt.Errorf("chunk: csid 9: %w", chunk.ErrHeaderMidMessage), ReasonProtocolError},
		{errors.New("something else"), ReasonProtocolError},
	} {
		if got := reasonFor(tc.err); got != tc.want {
			t.Errorf("reasonFor(%v) = %v, want %v", tc.err, got, tc.want)
		}
	}
}
