//go:build !linux

package rtmp

import "errors"

// idleWatch is Linux's (epoll): elsewhere a player keeps its reading
// goroutine (theIdleWatch is nil, so nothing parks).
type idleWatch struct{}

var errNoIdleWatch = errors.New("rtmp: no idle watch on this system")

func theIdleWatch() *idleWatch { return nil }

func (w *idleWatch) add(p *PlaySession)       {}
func (w *idleWatch) forget(p *PlaySession)    {}
func (w *idleWatch) arm(p *PlaySession) error { return errNoIdleWatch }
func (w *idleWatch) remove(p *PlaySession)    {}
