package rtmp

import (
	"context"
	"io"
	"sync"
)

// eventQueue is a bounded FIFO between a connection's reading goroutine and
// whoever reads its events. Past max entries the oldest is dropped, so a
// peer cannot grow memory; once closed, next returns the queued events and
// then the error that closed it. Safe for concurrent use.
type eventQueue[T any] struct {
	mu    sync.Mutex
	items []T
	max   int
	err   error
	wake  chan struct{}
}

func newEventQueue[T any](max int) *eventQueue[T] {
	return &eventQueue[T]{max: max, wake: make(chan struct{}, 1)}
}

func (q *eventQueue[T]) signal() {
	select {
	case q.wake <- struct{}{}:
	default:
	}
}

// push queues v, dropping the oldest event past the bound.
func (q *eventQueue[T]) push(v T) {
	q.mu.Lock()
	if len(q.items) >= q.max {
		q.items = q.items[1:]
	}
	q.items = append(q.items, v)
	q.mu.Unlock()
	q.signal()
}

// prepend puts vs in front of the queued events.
func (q *eventQueue[T]) prepend(vs []T) {
	q.mu.Lock()
	q.items = append(append([]T(nil), vs...), q.items...)
	q.mu.Unlock()
	q.signal()
}

// close ends the queue with err (io.EOF when nil); the first error stays.
func (q *eventQueue[T]) close(err error) {
	if err == nil {
		err = io.EOF
	}
	q.mu.Lock()
	if q.err == nil {
		q.err = err
	}
	q.mu.Unlock()
	q.signal()
}

// next returns the next event, waiting for one until ctx ends.
func (q *eventQueue[T]) next(ctx context.Context) (T, error) {
	var zero T
	for {
		q.mu.Lock()
		if len(q.items) > 0 {
			v := q.items[0]
			q.items = q.items[1:]
			q.mu.Unlock()
			return v, nil
		}
		err := q.err
		q.mu.Unlock()
		if err != nil {
			return zero, err
		}
		select {
		case <-q.wake:
		case <-ctx.Done():
			return zero, ctx.Err()
		}
	}
}
