//go:build linux

package rtmp

import (
	"errors"
	"sync"
	"syscall"
)

// idleWatch waits for the sockets of parked players (PlaySession.park) on
// one goroutine for the whole process, with an epoll set of its own: a
// player that sent everything it had costs no goroutine until it sends
// again, closes, or its read timeout passes. Each arming is one-shot: it
// reports once, and the resumed reader parks (arms) again when it is done.
//
// The goroutine runs only while some player is parked; it is woken to end
// through a pipe when the last one leaves by another way than an event.
type idleWatch struct {
	epfd int    // immutable
	pipe [2]int // immutable: read end in the set (id 0), write end to wake

	mu      sync.Mutex
	waiting map[uint32]*PlaySession // by id; guarded by mu
	nextID  uint32                  // guarded by mu
	running bool                    // the goroutine runs; guarded by mu
}

var (
	idleOnce sync.Once
	idle     *idleWatch // nil when epoll was refused: players keep their goroutine
)

// theIdleWatch returns the process's idle watch, nil if there is none.
func theIdleWatch() *idleWatch {
	idleOnce.Do(func() {
		epfd, err := syscall.EpollCreate1(syscall.EPOLL_CLOEXEC)
		if err != nil {
			return
		}
		w := &idleWatch{epfd: epfd, waiting: map[uint32]*PlaySession{}}
		if err := syscall.Pipe2(w.pipe[:], syscall.O_CLOEXEC|syscall.O_NONBLOCK); err != nil {
			syscall.Close(epfd)
			return
		}
		ev := syscall.EpollEvent{Events: syscall.EPOLLIN}
		if err := syscall.EpollCtl(epfd, syscall.EPOLL_CTL_ADD, w.pipe[0], &ev); err != nil {
			syscall.Close(epfd)
			syscall.Close(w.pipe[0])
			syscall.Close(w.pipe[1])
			return
		}
		idle = w
	})
	return idle
}

// add gives p an id, if it has none yet, and notes it as waiting; the
// goroutine is started if it is not running.
func (w *idleWatch) add(p *PlaySession) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if p.idleID == 0 {
		for {
			w.nextID++
			if w.nextID != 0 && w.waiting[w.nextID] == nil {
				break
			}
		}
		p.idleID = w.nextID
	}
	w.waiting[p.idleID] = p
	if !w.running {
		w.running = true
		go w.run()
	}
}

// forget drops p from the waiting; the goroutine is woken to end when
// nobody is left.
func (w *idleWatch) forget(p *PlaySession) {
	w.mu.Lock()
	if w.waiting[p.idleID] != p {
		w.mu.Unlock()
		return
	}
	delete(w.waiting, p.idleID)
	empty := len(w.waiting) == 0 && w.running
	w.mu.Unlock()
	if empty {
		syscall.Write(w.pipe[1], []byte{0})
	}
}

// arm asks for one report when p's socket becomes readable or is closed by
// the peer: it re-arms the socket's entry in the set, or adds one (the
// first park of the connection).
func (w *idleWatch) arm(p *PlaySession) error {
	var err error
	cerr := p.raw.Control(func(fd uintptr) {
		ev := syscall.EpollEvent{Events: syscall.EPOLLIN | syscall.EPOLLRDHUP | syscall.EPOLLONESHOT, Fd: int32(p.idleID)}
		err = syscall.EpollCtl(w.epfd, syscall.EPOLL_CTL_MOD, int(fd), &ev)
		if errors.Is(err, syscall.ENOENT) {
			err = syscall.EpollCtl(w.epfd, syscall.EPOLL_CTL_ADD, int(fd), &ev)
		}
	})
	if cerr != nil {
		return cerr
	}
	return err
}

// remove takes p's socket out of the set, once its session ended (a
// connection closed meanwhile left it already).
func (w *idleWatch) remove(p *PlaySession) {
	p.raw.Control(func(fd uintptr) {
		syscall.EpollCtl(w.epfd, syscall.EPOLL_CTL_DEL, int(fd), nil)
	})
}

// run reports readable sockets to their players until nobody waits.
func (w *idleWatch) run() {
	evs := make([]syscall.EpollEvent, 64)
	var ready []*PlaySession
	for {
		n, err := syscall.EpollWait(w.epfd, evs, -1)
		if err != nil && !errors.Is(err, syscall.EINTR) {
			// Not expected with a valid set: hand everybody back their
			// goroutine and stop watching.
			n = 0
			w.mu.Lock()
			for id, p := range w.waiting {
				ready = append(ready, p)
				delete(w.waiting, id)
			}
			w.mu.Unlock()
		}
		w.mu.Lock()
		for _, ev := range evs[:max(n, 0)] {
			if ev.Fd == 0 {
				var b [64]byte
				for {
					if k, _ := syscall.Read(w.pipe[0], b[:]); k <= 0 {
						break
					}
				}
				continue
			}
			if p := w.waiting[uint32(ev.Fd)]; p != nil {
				delete(w.waiting, uint32(ev.Fd))
				ready = append(ready, p)
			}
		}
		done := len(w.waiting) == 0
		if done {
			w.running = false
		}
		w.mu.Unlock()
		for i, p := range ready {
			p.resume(true)
			ready[i] = nil
		}
		ready = ready[:0]
		if done {
			return
		}
	}
}
