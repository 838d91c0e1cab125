package rtmp

import (
	"context"
	"io"
	"sync"
	"sync/atomic"
)

// eventQueue is a bounded FIFO between a connection's reading goroutine and
// whoever reads its events. Past max entries the oldest is dropped, so a
// peer cannot grow memory; once closed, next returns the queued events and
// then the error that closed it. Safe for concurrent use.
type eventQueue[T any] struct {
	mu    sync.Mutex
	items []T
	n     atomic.Int32 // len(items), for a look without the lock
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

// push queues v, dropping the oldest event past the bound. The queue's
// storage never holds more than max events (the dropped one's slot is
// reused, not left behind the slice's start).
func (q *eventQueue[T]) push(v T) {
	q.mu.Lock()
	if len(q.items) >= q.max {
		n := copy(q.items, q.items[1:])
		clear(q.items[n:])
		q.items = q.items[:n]
	}
	q.items = append(q.items, v)
	q.n.Store(int32(len(q.items)))
	q.mu.Unlock()
	q.signal()
}

// pop takes the first event; the caller holds mu and saw one. Once the
// queue is empty its storage goes, so that an idle session keeps none.
func (q *eventQueue[T]) pop() T {
	v := q.items[0]
	var zero T
	q.items[0] = zero
	q.items = q.items[1:]
	if len(q.items) == 0 {
		q.items = nil
	}
	q.n.Store(int32(len(q.items)))
	return v
}

// tryNext returns the next event if one is queued, without waiting.
func (q *eventQueue[T]) tryNext() (T, bool) {
	var zero T
	if q.n.Load() == 0 {
		return zero, false
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	if len(q.items) == 0 {
		return zero, false
	}
	return q.pop(), true
}

// prepend puts vs in front of the queued events.
func (q *eventQueue[T]) prepend(vs []T) {
	q.mu.Lock()
	q.items = append(append([]T(nil), vs...), q.items...)
	q.n.Store(int32(len(q.items)))
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
			v := q.pop()
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
