package live

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"strconv"
	"syscall"

	rtmp "github.com/ertmp/rtmp"
)

// Reason says why a session ended. Every session the Hub serves ends with
// one; it reaches the log line, SessionEnd and the End hook.
type Reason uint8

// Close reasons.
const (
	// ReasonNone: the session has not ended.
	ReasonNone Reason = iota
	// ReasonClientClosed: the peer unpublished, stopped playing or closed
	// the connection.
	ReasonClientClosed
	// ReasonRejected: the request was refused (bad name, key in use,
	// stream not found, limit reached, authorization failed).
	ReasonRejected
	// ReasonProtocolError: the peer broke the protocol, or the connection
	// failed in a way that is not a clean close.
	ReasonProtocolError
	// ReasonTimeout: the peer sent nothing within the read timeout, or a
	// write did not complete within the write timeout.
	ReasonTimeout
	// ReasonSlowConsumer: a player stayed behind the live stream (see
	// Config.SlowConsumerTimeout) or overran its queue with data that cannot
	// be dropped.
	ReasonSlowConsumer
	// ReasonPublisherGone: the publisher left and did not come back within
	// Config.RepublishGrace.
	ReasonPublisherGone
	// ReasonShutdown: the hub shut down.
	ReasonShutdown
	// ReasonReplaced: a new publisher took the stream key over (see
	// Config.ReplacePublisher).
	ReasonReplaced
	// ReasonKicked: an operator ended the session (Hub.Kick).
	ReasonKicked
	// ReasonMemoryBudget: the server's memory budget was exhausted and
	// this player had one of the largest backlogs (see Config.Budget).
	ReasonMemoryBudget
)

var reasonNames = [...]string{
	ReasonNone:          "none",
	ReasonClientClosed:  "client closed",
	ReasonRejected:      "rejected",
	ReasonProtocolError: "protocol error",
	ReasonTimeout:       "timeout",
	ReasonSlowConsumer:  "slow consumer",
	ReasonPublisherGone: "publisher gone",
	ReasonShutdown:      "shutdown",
	ReasonReplaced:      "replaced",
	ReasonKicked:        "kicked",
	ReasonMemoryBudget:  "memory budget",
}

func (r Reason) String() string {
	if int(r) < len(reasonNames) {
		return reasonNames[r]
	}
	return "reason(" + strconv.Itoa(int(r)) + ")"
}

// reasonFor classifies the error that ended a session's reads or writes.
// A clean end (io.EOF between messages, a reset or a closed socket) is the
// client's doing; a deadline is a timeout; anything else, a message cut in
// the middle (io.ErrUnexpectedEOF) or a broken chunk stream included, is a
// protocol error.
func reasonFor(err error) Reason {
	var ne net.Error
	switch {
	case err == nil:
		return ReasonClientClosed
	case errors.As(err, &ne) && ne.Timeout():
		return ReasonTimeout
	case errors.Is(err, io.ErrUnexpectedEOF):
		// Cut inside a message: the chunk stream is broken.
		return ReasonProtocolError
	case errors.Is(err, io.EOF), errors.Is(err, net.ErrClosed),
		errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE), errors.Is(err, rtmp.ErrSessionClosed):
		return ReasonClientClosed
	}
	return ReasonProtocolError
}

// HTTPStatus is the answer an output served over HTTP (HTTP-FLV, HLS)
// gives a viewer that Subscribe or Authorize refused: the status code and
// the text the viewer sees. ok is false when the viewer gave up waiting
// (its context ended): there is nobody to answer. An error that is none of
// the hub's refusals is 500, "internal error": log it.
func HTTPStatus(err error) (code int, text string, ok bool) {
	switch {
	case errors.Is(err, ErrDenied):
		text = "denied"
		if d, isD := errors.AsType[*DeniedError](err); isD && d.Text != "" {
			text = d.Text
		}
		return http.StatusForbidden, text, true
	case errors.Is(err, ErrShutdown):
		return http.StatusServiceUnavailable, "server shutting down", true
	case errors.Is(err, ErrTooManyPlayers), errors.Is(err, ErrTooManyStreams):
		return http.StatusServiceUnavailable, "too many players", true
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return 0, "", false
	case errors.Is(err, ErrBadName), errors.Is(err, ErrStreamNotFound):
		return http.StatusNotFound, "stream not found", true
	}
	return http.StatusInternalServerError, "internal error", true
}
