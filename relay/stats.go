package relay

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"os"
	"strconv"
	"sync/atomic"
	"syscall"

	rtmp "github.com/ertmp/rtmp"
)

// Failure says why a relay connection failed: a closed set, so that it
// can be a metric label (the error itself is in the API's last_error).
type Failure uint8

// Relay connection failures.
const (
	// FailOther: none of the others.
	FailOther Failure = iota
	// FailUnreachable: the TCP connection could not be made (refused,
	// no route, a name that does not resolve).
	FailUnreachable
	// FailTimeout: a dial, handshake, connect or write took too long.
	FailTimeout
	// FailTLS: the TLS handshake of rtmps:// failed (certificate, alert).
	FailTLS
	// FailRefused: the server answered connect, publish or play with an
	// error (_error, onStatus level error).
	FailRefused
	// FailClosed: the peer closed or reset the connection.
	FailClosed
	// FailUpstreamEnded: the upstream stream of a pull was unpublished.
	FailUpstreamEnded

	numFailures
)

var failureNames = [...]string{"other", "unreachable", "timeout", "tls", "refused", "closed", "upstream ended"}

func (f Failure) String() string {
	if int(f) < len(failureNames) {
		return failureNames[f]
	}
	return "failure(" + strconv.Itoa(int(f)) + ")"
}

// Failures lists every Failure, for metrics that show each from 0.
func Failures() []Failure {
	out := make([]Failure, numFailures)
	for i := range out {
		out[i] = Failure(i)
	}
	return out
}

// Classify says which Failure err is.
func Classify(err error) Failure {
	var (
		status *rtmp.StatusError
		cert   *tls.CertificateVerificationError
		alert  tls.AlertError
		rec    tls.RecordHeaderError
		unk    x509.UnknownAuthorityError
		host   x509.HostnameError
		netErr net.Error
		op     *net.OpError
	)
	switch {
	case err == nil:
		return FailOther
	case errors.Is(err, errUpstreamEnded):
		return FailUpstreamEnded
	case errors.As(err, &status):
		return FailRefused
	case errors.As(err, &cert), errors.As(err, &alert), errors.As(err, &rec), errors.As(err, &unk), errors.As(err, &host):
		return FailTLS
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, os.ErrDeadlineExceeded),
		errors.As(err, &netErr) && netErr.Timeout():
		return FailTimeout
	case errors.As(err, &op) && op.Op == "dial":
		return FailUnreachable
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, syscall.ECONNRESET),
		errors.Is(err, syscall.EPIPE), errors.Is(err, net.ErrClosed), errors.Is(err, rtmp.ErrSessionClosed):
		return FailClosed
	}
	return FailOther
}

// KindStats are the totals of one kind of relay (push targets or
// pulls). Counters include the relays that have ended.
type KindStats struct {
	// Connecting, Connected and Retrying count the running ones by
	// state.
	Connecting, Connected, Retrying int
	// Reconnects counts the connections lost, refused or ended.
	Reconnects uint64
	// Bytes counts the bytes sent to push targets, or received from
	// upstreams; Packets the packets sent or published.
	Bytes, Packets uint64
	// Lost counts the packets push targets' queues dropped because the
	// target was slow (pulls lose none: they are publishers).
	Lost uint64
	// Failures counts the connection failures by Failure.
	Failures [numFailures]uint64
}

// Stats are a manager's relay totals, for metrics.
type Stats struct {
	Push, Pull KindStats
}

// failCounts are the failures of the relays of one kind; atomic, shared
// by a manager with its relays.
type failCounts [numFailures]atomic.Uint64

func (c *failCounts) add(err error) {
	if c != nil {
		c[Classify(err)].Add(1)
	}
}

func (k *KindStats) state(s State) {
	switch s {
	case StateConnecting:
		k.Connecting++
	case StateConnected:
		k.Connected++
	case StateRetrying:
		k.Retrying++
	}
}

// addPush adds a push target's counters to k.
func (k *KindStats) addPush(st TargetStatus) {
	k.Reconnects += st.Reconnects
	k.Bytes += st.Bytes
	k.Packets += st.Packets
	k.Lost += st.Lost
}

// addPull adds a pull's counters to k.
func (k *KindStats) addPull(st PullStatus) {
	k.Reconnects += st.Reconnects
	k.Bytes += st.Bytes
	k.Packets += st.Packets
}
