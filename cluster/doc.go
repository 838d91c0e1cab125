// Package cluster makes several `ertmp serve` nodes one service: any
// node takes any publisher, and any node plays any stream.
//
// The registry is two NATS JetStream key-value buckets (Registry): one
// entry per stream (its node's advertised rtmp:// address, start time and
// codecs), written when it changes, and one per node (its load), living
// for the bucket's ttl unless its node renews it (every ttl/3). A stream
// is live while its node's entry is: a node that crashes loses its
// streams within the ttl, and the cluster writes N node entries per ttl/3
// however many streams it has. Every node watches the buckets and keeps a
// cache of them; NATS before 2.11 does not tell watchers when an entry
// ages out, so the cache forgets a node that was not written for the ttl
// too. The lowest live node deletes the entries of dead nodes' streams.
//
// A publish claims its stream's entry with an atomic create (or an
// update at the revision read): a stream live on another node is refused
// ("already publishing on node X"), or taken over with ReplacePublisher
// (the other node sees its entry change and ends its publisher), the
// rules of one live.Hub made cluster-wide. A draining or dead node's
// streams are taken over by the node their publishers move to.
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
