// Package cluster makes several `ertmp serve` nodes one service: any
// node takes any publisher, and any node plays any stream.
//
// The registry is a NATS JetStream key-value bucket (Registry): one entry
// per stream (its node's advertised rtmp:// address, start time and
// codecs) and one per node (its load), each living for the bucket's ttl
// unless its node renews it (every ttl/3). A node that crashes loses its
// entries within the ttl. Every node watches the bucket and keeps a cache
// of it; NATS before 2.11 does not tell watchers when an entry ages out,
// so the cache forgets an entry that was not written for the ttl too.
//
// A publish claims its stream's entry with an atomic create (or an
// update at the revision read): a stream live on another node is refused
// ("already publishing on node X"), or taken over with ReplacePublisher
// (the other node sees its entry change and ends its publisher), the
// rules of one live.Hub made cluster-wide. A draining node's streams are
// taken over by the node its publishers move to.
//
// A player of a stream that another node holds makes its node pull the
// stream from there over RTMP (relay.Pull), once for all of its local
// players; the pull follows the stream when it moves, stops when it ends
// (the players wait for the republish grace, as on one node) and stops
// when its players have been gone for the idle time. A node pulls from the
// stream's origin only (EdgeQuery marks the pull): no chains, no loops.
//
// Without NATS a node serves its own streams and refuses players of
// others' ("cluster registry unavailable"); when NATS is back it makes
// the bucket again if it is gone and registers its streams.
package cluster
