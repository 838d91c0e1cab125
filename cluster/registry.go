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

// opTimeout bounds each registry call.
const opTimeout = 2 * time.Second

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

// Registry is a node's view of the cluster's stream registry: two
// JetStream key-value buckets, one entry per stream in the first (written
// when a publish starts, changes node or learns its codecs, deleted when
// it ends) and one per node in the second, which lives ttl unless its node
// renews it (the bucket's max age). A stream entry is live while its
// node's entry is: a node that crashes loses its streams within the ttl,
// and a cluster of N nodes writes N entries every ttl/3 however many
// streams it has. Each node keeps a cache of both, fed by watches. NATS
// before 2.11 removes an aged entry without telling the watchers, so the
// cache forgets a node not rewritten for the ttl too: the same bound. The
// lowest live node deletes the entries of dead nodes' streams. It is safe
// for concurrent use.
type Registry struct {
	kv, nodesKV jetstream.KeyValue
	ttl         time.Duration

	mu      sync.Mutex
	streams map[live.Key]StreamEntry // every entry; live if its node is
	nodes   map[string]*cached[NodeEntry]
}

type cached[T any] struct {
	v    T
	seen time.Time
}

// BucketConfig is a registry's stream bucket (history 1, in memory: the
// registry is rebuilt by its nodes, see Node) and NodesBucketConfig its
// node bucket, whose entries live ttl.
func BucketConfig(bucket string) jetstream.KeyValueConfig {
	return jetstream.KeyValueConfig{Bucket: bucket, Description: "ertmp cluster streams", History: 1, Storage: jetstream.MemoryStorage}
}

func NodesBucketConfig(bucket string, ttl time.Duration) jetstream.KeyValueConfig {
	return jetstream.KeyValueConfig{Bucket: bucket + "-nodes", Description: "ertmp cluster nodes", History: 1, TTL: ttl,
		Storage: jetstream.MemoryStorage}
}

// OpenRegistry makes or updates the buckets and returns a registry on
// them with an empty cache (see Watch).
func OpenRegistry(ctx context.Context, js jetstream.JetStream, bucket string, ttl time.Duration) (*Registry, error) {
	kv, err := js.CreateOrUpdateKeyValue(ctx, BucketConfig(bucket))
	if err != nil {
		return nil, fmt.Errorf("cluster: bucket %s: %w", bucket, err)
	}
	nkv, err := js.CreateOrUpdateKeyValue(ctx, NodesBucketConfig(bucket, ttl))
	if err != nil {
		return nil, fmt.Errorf("cluster: bucket %s-nodes: %w", bucket, err)
	}
	return &Registry{kv: kv, nodesKV: nkv, ttl: ttl, streams: map[live.Key]StreamEntry{}, nodes: map[string]*cached[NodeEntry]{}}, nil
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

// Renew rewrites a stream's entry at its revision (its codecs, say) and
// returns the new revision; ErrLost when it changed or is gone.
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
	return r.nodesKV.Put(ctx, nodeKey(n.ID), data)
}

// DeleteNode deletes a node's entry.
func (r *Registry) DeleteNode(ctx context.Context, id string) error {
	return r.nodesKV.Delete(ctx, nodeKey(id))
}

// Change is a change of the cache: a stream's entry written or live
// again (Entry set), or gone (nil: deleted, or its node not renewed within
// the ttl).
type Change struct {
	Key   live.Key
	Entry *StreamEntry
}

// Watch feeds the cache from the buckets until ctx ends or a watch
// fails: it replaces the cache with the buckets' entries, calls ready
// (when set) once it has them all, then applies each update as it comes
// and expires nodes not renewed for the ttl. Every change of a live
// stream, the first load's included, is passed to changed (on Watch's
// goroutine). self names the watching node: when it is the lowest live
// node, it deletes the entries of dead nodes' streams.
func (r *Registry) Watch(ctx context.Context, self string, ready func(), changed func(Change)) error {
	ws, err := r.kv.WatchAll(ctx)
	if err != nil {
		return fmt.Errorf("cluster: watch: %w", err)
	}
	defer ws.Stop()
	wn, err := r.nodesKV.WatchAll(ctx)
	if err != nil {
		return fmt.Errorf("cluster: watch: %w", err)
	}
	defer wn.Stop()
	// The first load goes into a fresh cache; streams of the old one
	// that are not in it are gone.
	fresh := map[live.Key]StreamEntry{}
	freshNodes := map[string]*cached[NodeEntry]{}
	streamsIn, nodesIn := false, false
	tick := time.NewTicker(max(r.ttl/8, 50*time.Millisecond))
	defer tick.Stop()
	emit := func(cs []Change, dead []StreamEntry) {
		for _, c := range cs {
			changed(c)
		}
		if len(dead) > 0 {
			go r.reap(ctx, dead)
		}
	}
	for {
		loaded := streamsIn && nodesIn
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
			if loaded {
				emit(r.expire(time.Now(), self))
			}
		case u, ok := <-ws.Updates():
			if !ok {
				return errors.New("cluster: watch ended")
			}
			switch {
			case u == nil:
				streamsIn = true
			case !loaded:
				if e, ok := decodeStream(u); ok && u.Operation() == jetstream.KeyValuePut {
					fresh[e.Key()] = e
				}
			default:
				if c, ok := r.applyStream(u); ok {
					changed(c)
				}
			}
		case u, ok := <-wn.Updates():
			if !ok {
				return errors.New("cluster: watch ended")
			}
			switch {
			case u == nil:
				nodesIn = true
			case !loaded:
				if n, ok := decodeNode(u); ok && u.Operation() == jetstream.KeyValuePut {
					freshNodes[n.ID] = &cached[NodeEntry]{v: n, seen: time.Now()}
				}
			default:
				emit(r.applyNode(u, self))
			}
		}
		if !loaded && streamsIn && nodesIn {
			emit(r.swap(fresh, freshNodes, self))
			if ready != nil {
				ready()
			}
		}
	}
}

func decodeStream(u jetstream.KeyValueEntry) (StreamEntry, bool) {
	k, err := parseStreamKey(u.Key())
	if err != nil {
		return StreamEntry{}, false
	}
	var e StreamEntry
	if u.Operation() == jetstream.KeyValuePut {
		if json.Unmarshal(u.Value(), &e) != nil {
			return StreamEntry{}, false
		}
	}
	// The names are the key's: JSON cannot carry every byte.
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

// liveLocked reports whether a stream's node is live; the caller holds
// r.mu.
func (r *Registry) liveLocked(e StreamEntry) bool { return r.nodes[e.Node] != nil }

// swap replaces the cache and returns the changes of live streams it
// makes, and the entries of dead nodes to delete.
func (r *Registry) swap(streams map[live.Key]StreamEntry, nodes map[string]*cached[NodeEntry], self string) ([]Change, []StreamEntry) {
	r.mu.Lock()
	defer r.mu.Unlock()
	old := map[live.Key]uint64{}
	for k, e := range r.streams {
		if r.liveLocked(e) {
			old[k] = e.Revision
		}
	}
	r.streams, r.nodes = streams, nodes
	var out []Change
	for k, e := range streams {
		if !r.liveLocked(e) {
			continue
		}
		if rev, ok := old[k]; !ok || rev != e.Revision {
			out = append(out, Change{Key: k, Entry: &e})
		}
		delete(old, k)
	}
	for k := range old {
		out = append(out, Change{Key: k})
	}
	return out, r.deadLocked(self)
}

// applyStream applies an update of a stream's entry.
func (r *Registry) applyStream(u jetstream.KeyValueEntry) (Change, bool) {
	e, ok := decodeStream(u)
	if !ok {
		return Change{}, false
	}
	k := e.Key()
	r.mu.Lock()
	defer r.mu.Unlock()
	prev, had := r.streams[k]
	wasLive := had && r.liveLocked(prev)
	if u.Operation() != jetstream.KeyValuePut {
		delete(r.streams, k)
		return Change{Key: k}, wasLive
	}
	r.streams[k] = e
	if r.liveLocked(e) {
		return Change{Key: k, Entry: &e}, true
	}
	return Change{Key: k}, wasLive
}

// applyNode applies an update of a node's entry: its streams live or
// gone with it.
func (r *Registry) applyNode(u jetstream.KeyValueEntry, self string) ([]Change, []StreamEntry) {
	n, ok := decodeNode(u)
	if !ok {
		return nil, nil
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	known := r.nodes[n.ID] != nil
	if u.Operation() != jetstream.KeyValuePut {
		if !known {
			return nil, nil
		}
		delete(r.nodes, n.ID)
		return r.streamsOfLocked(n.ID, false), r.deadLocked(self)
	}
	r.nodes[n.ID] = &cached[NodeEntry]{v: n, seen: time.Now()}
	if known {
		return nil, nil
	}
	return r.streamsOfLocked(n.ID, true), nil
}

// streamsOfLocked are the changes of a node's streams as it comes (live)
// or goes.
func (r *Registry) streamsOfLocked(node string, live bool) []Change {
	var out []Change
	for k, e := range r.streams {
		if e.Node != node {
			continue
		}
		if live {
			out = append(out, Change{Key: k, Entry: &e})
		} else {
			out = append(out, Change{Key: k})
		}
	}
	return out
}

// expire forgets the nodes not renewed within the ttl, and their streams.
func (r *Registry) expire(now time.Time, self string) ([]Change, []StreamEntry) {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []Change
	for id, c := range r.nodes {
		if now.Sub(c.seen) > r.ttl {
			delete(r.nodes, id)
			out = append(out, r.streamsOfLocked(id, false)...)
		}
	}
	if len(out) == 0 {
		return nil, nil
	}
	return out, r.deadLocked(self)
}

// deadLocked returns the stream entries of dead nodes when self is the
// lowest live node (the one that deletes them).
func (r *Registry) deadLocked(self string) []StreamEntry {
	if self == "" || r.nodes[self] == nil {
		return nil
	}
	for id := range r.nodes {
		if id < self {
			return nil
		}
	}
	var out []StreamEntry
	for _, e := range r.streams {
		if !r.liveLocked(e) {
			out = append(out, e)
		}
	}
	return out
}

// reap deletes the entries of dead nodes' streams, each at the revision
// seen (a stream claimed again meanwhile stays), once the store agrees
// that the node is gone (a watch that lags must not delete a live node's
// streams).
func (r *Registry) reap(ctx context.Context, dead []StreamEntry) {
	ctx, cancel := context.WithTimeout(ctx, 2*r.ttl+opTimeout)
	defer cancel()
	byNode := map[string][]StreamEntry{}
	for _, e := range dead {
		byNode[e.Node] = append(byNode[e.Node], e)
	}
	for node, es := range byNode {
		// The store expires the node's entry on its own clock: wait for
		// it, up to twice the ttl (past that, the node is alive).
		for {
			_, err := r.nodesKV.Get(ctx, nodeKey(node))
			if errors.Is(err, jetstream.ErrKeyNotFound) || errors.Is(err, jetstream.ErrKeyDeleted) {
				for _, e := range es {
					r.kv.Delete(ctx, streamKey(e.Key()), jetstream.LastRevision(e.Revision))
				}
				break
			}
			select {
			case <-ctx.Done():
				return
			case <-time.After(r.ttl / 8):
			}
		}
	}
}

// Lookup returns the cached entry of a stream.
func (r *Registry) Lookup(k live.Key) (StreamEntry, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	e, ok := r.streams[k]
	if !ok || !r.liveLocked(e) {
		return StreamEntry{}, false
	}
	return e, true
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

// Streams returns the cached entries of live streams, sorted by app and
// name.
func (r *Registry) Streams() []StreamEntry {
	r.mu.Lock()
	out := make([]StreamEntry, 0, len(r.streams))
	for _, e := range r.streams {
		if r.liveLocked(e) {
			out = append(out, e)
		}
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
