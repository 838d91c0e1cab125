//go:build !linux

package rtmp

// idleWatch is Linux's (epoll): elsewhere a player keeps its reading
// goroutine.
type idleWatch struct{}

func theIdleWatch() *idleWatch { return nil }

func (w *idleWatch) add(p *PlaySession) bool          { return false }
func (w *idleWatch) forget(p *PlaySession)            {}
func (w *idleWatch) arm(p *PlaySession, _ bool) error { return errNoIdleWatch }
func (w *idleWatch) remove(p *PlaySession)            {}
