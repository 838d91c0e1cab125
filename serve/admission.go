package serve

import (
	"context"
	"strings"
	"sync"

	rtmp "github.com/ertmp/rtmp"
	"github.com/ertmp/rtmp/auth"
	"github.com/ertmp/rtmp/live"
)

// appLimits enforces the per-app limits (App.MaxStreams, App.MaxPlayers)
// at admission: a session is counted from Authorize, when it is let in,
// until End, so that two sessions asking at once cannot both take the last
// place. The hub's own bounds (live.max_streams, live.max_players) apply
// as well.
type appLimits struct {
	cfg func() *Config

	mu      sync.Mutex
	streams map[string]int   // by app
	players map[live.Key]int // by stream
	held    map[uint64]hold  // by session ID
}

type hold struct {
	app string
	key live.Key
}

func newAppLimits(cfg func() *Config) *appLimits {
	return &appLimits{cfg: cfg, streams: map[string]int{}, players: map[live.Key]int{}, held: map[uint64]hold{}}
}

func (l *appLimits) hooks() live.Hooks {
	return live.Hooks{Authorize: l.authorize, End: l.end}
}

// appOf returns the settings that apply to an application and the name
// its streams are counted under: the app's own, its first segment's, or
// the default (counted per app).
func (c *Config) appOf(name string) (App, string) {
	if a, ok := c.Apps[name]; ok {
		return a, name
	}
	if i := strings.IndexByte(name, '/'); i >= 0 {
		if a, ok := c.Apps[name[:i]]; ok {
			return a, name[:i]
		}
	}
	return c.Apps[auth.DefaultApp], name
}

func (l *appLimits) authorize(_ context.Context, s *live.Session) (string, error) {
	a, app := l.cfg().appOf(s.App)
	if a.MaxStreams <= 0 && a.MaxPlayers <= 0 {
		return "", nil
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if s.Kind == rtmp.KindPublish {
		if a.MaxStreams > 0 {
			if l.streams[app] >= a.MaxStreams {
				return "", live.Deny("too many streams in this application")
			}
			l.streams[app]++
			l.held[s.ID] = hold{app: app}
		}
		return "", nil
	}
	if a.MaxPlayers > 0 {
		if l.players[s.Key] >= a.MaxPlayers {
			return "", live.Deny("too many players of this stream")
		}
		l.players[s.Key]++
		l.held[s.ID] = hold{key: s.Key}
	}
	return "", nil
}

func (l *appLimits) end(s *live.Session, _ live.SessionEnd) {
	l.mu.Lock()
	defer l.mu.Unlock()
	h, ok := l.held[s.ID]
	if !ok {
		return
	}
	delete(l.held, s.ID)
	if h.app != "" || s.Kind == rtmp.KindPublish {
		if l.streams[h.app]--; l.streams[h.app] <= 0 {
			delete(l.streams, h.app)
		}
		return
	}
	if l.players[h.key]--; l.players[h.key] <= 0 {
		delete(l.players, h.key)
	}
}
