package cluster

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/ertmp/rtmp/live"
)

// StreamEntry is a stream's registry entry: which node holds it.
type StreamEntry struct {
	App  string `json:"app"`
	Name string `json:"name"`
	// Node is the ID of the node the stream is published on; URL its
	// advertised rtmp://HOST:PORT, where other nodes pull it from.
	Node string `json:"node"`
	URL  string `json:"url"`
	// Since is when the publish began on that node.
	Since time.Time `json:"since"`
	// Codecs are the codecs of the stream's tracks, once known.
	Codecs []string `json:"codecs,omitempty"`
	// Revision is the entry's revision in the bucket (not stored).
	Revision uint64 `json:"revision"`
}

// Key returns the stream's key.
func (e *StreamEntry) Key() live.Key { return live.Key{App: e.App, Name: e.Name} }

// NodeEntry is a node's registry entry, renewed with its load.
type NodeEntry struct {
	ID    string    `json:"id"`
	URL   string    `json:"url"`
	Start time.Time `json:"start"`
	// Draining: the node is sending its publishers away and takes no new
	// ones; a publish elsewhere of one of its streams takes it over.
	Draining bool `json:"draining,omitempty"`
	Load     Load `json:"load"`
	// Revision is the entry's revision in the bucket (not stored).
	Revision uint64 `json:"revision"`
}

// Load is what a node carries, for the choice of the least loaded.
type Load struct {
	Streams    int `json:"streams"`
	Publishers int `json:"publishers"`
	Players    int `json:"players"`
	// BitrateIn and BitrateOut are the bits per second the node's
	// streams take in and send out.
	BitrateIn  int64 `json:"bitrate_in"`
	BitrateOut int64 `json:"bitrate_out"`
}

// less orders loads: fewer sessions first, then less traffic.
func (l Load) less(m Load) bool {
	if a, b := l.Publishers+l.Players, m.Publishers+m.Players; a != b {
		return a < b
	}
	return l.BitrateIn+l.BitrateOut < m.BitrateIn+m.BitrateOut
}

// OwnedError: a claim found the stream live on another node.
type OwnedError struct{ Entry StreamEntry }

func (e *OwnedError) Error() string {
	return fmt.Sprintf("cluster: %s/%s is live on node %s", e.Entry.App, e.Entry.Name, e.Entry.Node)
}

// Registry is a node's view of the cluster's stream registry: a JetStream
// key-value bucket with one entry per stream and one per node, each
// living ttl unless renewed (the bucket's max age), and a cache of it
// fed by a watch. A bucket's max age removes an entry from the store
// without telling the watchers (NATS before 2.11 writes no marker), so
// the cache forgets an entry ttl after it last saw it written: the same
// bound. It is safe for concurrent use.
type Registry struct {
	kv  jetstream.KeyValue
	ttl time.Duration

	mu      sync.Mutex
	streams map[live.Key]*cached[StreamEntry]
	nodes   map[string]*cached[NodeEntry]
}

type cached[T any] struct {
	v    T
	seen time.Time
}

// BucketConfig is the bucket of a registry: history 1, entries that live
// ttl, in memory (the registry is rebuilt by its nodes, see Node).
func BucketConfig(bucket string, ttl time.Duration) jetstream.KeyValueConfig {
	return jetstream.KeyValueConfig{Bucket: bucket, Description: "ertmp cluster stream registry", History: 1, TTL: ttl,
		Storage: jetstream.MemoryStorage}
}

// OpenRegistry makes or updates the bucket and returns a registry on it
// with an empty cache (see Watch).
func OpenRegistry(ctx context.Context, js jetstream.JetStream, bucket string, ttl time.Duration) (*Registry, error) {
	kv, err := js.CreateOrUpdateKeyValue(ctx, BucketConfig(bucket, ttl))
	if err != nil {
		return nil, fmt.Errorf("cluster: bucket %s: %w", bucket, err)
	}
	return &Registry{kv: kv, ttl: ttl, streams: map[live.Key]*cached[StreamEntry]{}, nodes: map[string]*cached[NodeEntry]{}}, nil
}

// Claim registers e's stream for e.Node. When the stream is live on
// another node, takeover decides: true replaces that entry (the other
// node sees it and ends its publisher), false fails with an *OwnedError.
// An entry of the same node is replaced. It returns the entry's
// revision.
func (r *Registry) Claim(ctx context.Context, e StreamEntry, takeover func(cur StreamEntry) bool) (uint64, error) {
	k := streamKey(e.Key())
	data, err := json.Marshal(&e)
	if err != nil {
		return 0, err
	}
	for range 3 {
		rev, err := r.kv.Create(ctx, k, data)
		if err == nil {
			return rev, nil
		}
		if !errors.Is(err, jetstream.ErrKeyExists) {
			return 0, fmt.Errorf("cluster: claim %s: %w", e.Key(), err)
		}
		got, err := r.kv.Get(ctx, k)
		if errors.Is(err, jetstream.ErrKeyNotFound) || errors.Is(err, jetstream.ErrKeyDeleted) {
			continue // gone meanwhile: create again
		}
		if err != nil {
			return 0, fmt.Errorf("cluster: claim %s: %w", e.Key(), err)
		}
		var cur StreamEntry
		if err := json.Unmarshal(got.Value(), &cur); err != nil {
			cur = StreamEntry{App: e.App, Name: e.Name, Node: "?"}
		}
		cur.Revision = got.Revision()
		if cur.Node != e.Node && (takeover == nil || !takeover(cur)) {
			return 0, &OwnedError{Entry: cur}
		}
		rev, err = r.kv.Update(ctx, k, data, got.Revision())
		if err == nil {
			return rev, nil
		}
		if !errors.Is(err, jetstream.ErrKeyRevisionMismatch) {
			return 0, fmt.Errorf("cluster: claim %s: %w", e.Key(), err)
		}
	}
	return 0, fmt.Errorf("cluster: claim %s: the entry kept changing", e.Key())
}

// ErrLost: a renewal or release found the entry changed (taken over) or
// gone.
var ErrLost = errors.New("cluster: registry entry lost")

// Renew rewrites a stream's entry at its revision (its lifetime starts
// over) and returns the new revision; ErrLost when it changed or expired.
func (r *Registry) Renew(ctx context.Context, e StreamEntry, rev uint64) (uint64, error) {
	data, err := json.Marshal(&e)
	if err != nil {
		return 0, err
	}
	n, err := r.kv.Update(ctx, streamKey(e.Key()), data, rev)
	if errors.Is(err, jetstream.ErrKeyRevisionMismatch) {
		return 0, fmt.Errorf("%w: %s: %v", ErrLost, e.Key(), err)
	}
	return n, err
}

// Release deletes a stream's entry if it is still at revision rev.
func (r *Registry) Release(ctx context.Context, k live.Key, rev uint64) error {
	err := r.kv.Delete(ctx, streamKey(k), jetstream.LastRevision(rev))
	if errors.Is(err, jetstream.ErrKeyRevisionMismatch) {
		return fmt.Errorf("%w: %s", ErrLost, k)
	}
	return err
}

// PutNode writes a node's entry.
func (r *Registry) PutNode(ctx context.Context, n NodeEntry) (uint64, error) {
	data, err := json.Marshal(&n)
	if err != nil {
		return 0, err
	}
	return r.kv.Put(ctx, nodeKey(n.ID), data)
}

// DeleteNode deletes a node's entry.
func (r *Registry) DeleteNode(ctx context.Context, id string) error {
	return r.kv.Delete(ctx, nodeKey(id))
}

// Change is a change of the cache: a stream's entry written (Entry set)
// or gone (nil: deleted, or not renewed within the ttl).
type Change struct {
	Key   live.Key
	Entry *StreamEntry
}

// Watch feeds the cache from the bucket until ctx ends or the watch
// fails: it replaces the cache with the bucket's entries, calls ready
// (when set) once it has them all, then applies each update as it comes
// and expires entries not renewed for the ttl. Every change of a
// stream's entry, the first load's included, is passed to changed (on
// Watch's goroutine).
func (r *Registry) Watch(ctx context.Context, ready func(), changed func(Change)) error {
	w, err := r.kv.WatchAll(ctx)
	if err != nil {
		return fmt.Errorf("cluster: watch: %w", err)
	}
	defer w.Stop()
	// The first load goes into a fresh cache; streams of the old one
	// that are not in it are gone.
	fresh := map[live.Key]*cached[StreamEntry]{}
	freshNodes := map[string]*cached[NodeEntry]{}
	loading := true
	tick := time.NewTicker(max(r.ttl/8, 50*time.Millisecond))
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
			if !loading {
				for _, c := range r.expire(time.Now()) {
					changed(c)
				}
			}
		case u, ok := <-w.Updates():
			if !ok {
				return errors.New("cluster: watch ended")
			}
			if u == nil {
				if loading {
					loading = false
					for _, c := range r.swap(fresh, freshNodes) {
						changed(c)
					}
					if ready != nil {
						ready()
					}
				}
				continue
			}
			if loading {
				load(fresh, freshNodes, u)
				continue
			}
			if c, ok := r.apply(u); ok {
				changed(c)
			}
		}
	}
}

// load puts an entry of the first load in the fresh cache.
func load(streams map[live.Key]*cached[StreamEntry], nodes map[string]*cached[NodeEntry], u jetstream.KeyValueEntry) {
	now := time.Now()
	if u.Operation() != jetstream.KeyValuePut {
		return
	}
	if e, ok := decodeStream(u); ok {
		streams[e.Key()] = &cached[StreamEntry]{v: e, seen: now}
	} else if n, ok := decodeNode(u); ok {
		nodes[n.ID] = &cached[NodeEntry]{v: n, seen: now}
	}
}

func decodeStream(u jetstream.KeyValueEntry) (StreamEntry, bool) {
	k, err := parseStreamKey(u.Key())
	if err != nil {
		return StreamEntry{}, false
	}
	var e StreamEntry
	if u.Operation() == jetstream.KeyValuePut {
		if json.Unmarshal(u.Value(), &e) != nil || e.Key() != k {
			return StreamEntry{}, false
		}
	}
	e.App, e.Name, e.Revision = k.App, k.Name, u.Revision()
	return e, true
}

func decodeNode(u jetstream.KeyValueEntry) (NodeEntry, bool) {
	id, err := parseNodeKey(u.Key())
	if err != nil {
		return NodeEntry{}, false
	}
	var n NodeEntry
	if u.Operation() == jetstream.KeyValuePut {
		if json.Unmarshal(u.Value(), &n) != nil || n.ID != id {
			return NodeEntry{}, false
		}
	}
	n.ID, n.Revision = id, u.Revision()
	return n, true
}

// swap replaces the cache and returns the stream changes it makes.
func (r *Registry) swap(streams map[live.Key]*cached[StreamEntry], nodes map[string]*cached[NodeEntry]) []Change {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []Change
	for k, c := range streams {
		if old := r.streams[k]; old == nil || old.v.Revision != c.v.Revision {
			e := c.v
			out = append(out, Change{Key: k, Entry: &e})
		}
	}
	for k := range r.streams {
		if streams[k] == nil {
			out = append(out, Change{Key: k})
		}
	}
	r.streams, r.nodes = streams, nodes
	return out
}

// apply applies one update to the cache.
func (r *Registry) apply(u jetstream.KeyValueEntry) (Change, bool) {
	now := time.Now()
	put := u.Operation() == jetstream.KeyValuePut
	r.mu.Lock()
	defer r.mu.Unlock()
	if e, ok := decodeStream(u); ok {
		k := e.Key()
		if !put {
			if r.streams[k] == nil {
				return Change{}, false
			}
			delete(r.streams, k)
			return Change{Key: k}, true
		}
		r.streams[k] = &cached[StreamEntry]{v: e, seen: now}
		return Change{Key: k, Entry: &e}, true
	}
	if n, ok := decodeNode(u); ok {
		if put {
			r.nodes[n.ID] = &cached[NodeEntry]{v: n, seen: now}
		} else {
			delete(r.nodes, n.ID)
		}
	}
	return Change{}, false
}

// expire drops the entries not renewed within the ttl.
func (r *Registry) expire(now time.Time) []Change {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []Change
	for k, c := range r.streams {
		if now.Sub(c.seen) > r.ttl {
			delete(r.streams, k)
			out = append(out, Change{Key: k})
		}
	}
	for id, c := range r.nodes {
		if now.Sub(c.seen) > r.ttl {
			delete(r.nodes, id)
		}
	}
	return out
}

// Lookup returns the cached entry of a stream.
func (r *Registry) Lookup(k live.Key) (StreamEntry, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	c := r.streams[k]
	if c == nil {
		return StreamEntry{}, false
	}
	return c.v, true
}

// Node returns the cached entry of a node.
func (r *Registry) Node(id string) (NodeEntry, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	c := r.nodes[id]
	if c == nil {
		return NodeEntry{}, false
	}
	return c.v, true
}

// Streams returns the cached stream entries, sorted by app and name.
func (r *Registry) Streams() []StreamEntry {
	r.mu.Lock()
	out := make([]StreamEntry, 0, len(r.streams))
	for _, c := range r.streams {
		out = append(out, c.v)
	}
	r.mu.Unlock()
	slices.SortFunc(out, func(a, b StreamEntry) int { return cmp.Or(cmp.Compare(a.App, b.App), cmp.Compare(a.Name, b.Name)) })
	return out
}

// Nodes returns the cached node entries, sorted by ID.
func (r *Registry) Nodes() []NodeEntry {
	r.mu.Lock()
	out := make([]NodeEntry, 0, len(r.nodes))
	for _, c := range r.nodes {
		out = append(out, c.v)
	}
	r.mu.Unlock()
	slices.SortFunc(out, func(a, b NodeEntry) int { return cmp.Compare(a.ID, b.ID) })
	return out
}

// LeastLoaded returns the least loaded node that is not draining, other
// than except.
func (r *Registry) LeastLoaded(except string) (NodeEntry, bool) {
	var best NodeEntry
	found := false
	for _, n := range r.Nodes() {
		if n.ID == except || n.Draining || n.URL == "" {
			continue
		}
		if !found || n.Load.less(best.Load) {
			best, found = n, true
		}
	}
	return best, found
}
