package serve

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	rtmp "github.com/ertmp/rtmp"
	"github.com/ertmp/rtmp/auth"
	"github.com/ertmp/rtmp/cluster"
	"github.com/ertmp/rtmp/live"
)

// ClusterConfig makes the server a node of a cluster (package cluster):
// the stream registry in a NATS key-value bucket, play anywhere, drain to
// the least loaded node. No NATS URL: a single node.
type ClusterConfig struct {
	// NATS lists the NATS servers (nats://HOST:PORT).
	NATS []string `yaml:"nats"`
	// Advertise is rtmp://HOST:PORT, the node's RTMP address as the other
	// nodes and moving publishers reach it.
	Advertise string `yaml:"advertise"`
	// Bucket is the registry's key-value bucket; TTL how long an entry
	// lives unless its node renews it.
	Bucket string   `yaml:"bucket"`
	TTL    Duration `yaml:"ttl"`
	// Node is the node's name in the registry ("": the host:port of
	// advertise).
	Node string `yaml:"node"`
	// User and Password, Token, or Creds (a NATS credentials file).
	User     string `yaml:"user"`
	Password string `yaml:"password"`
	Token    string `yaml:"token"`
	Creds    string `yaml:"creds"`
	// Idle is how long a pull from another node stays without players.
	Idle Duration `yaml:"idle"`
}

// on reports whether the server is a cluster node.
func (c *ClusterConfig) on() bool { return len(c.NATS) > 0 }

func (c *ClusterConfig) clone() ClusterConfig {
	d := *c
	d.NATS = cloneSlice(c.NATS)
	return d
}

func (c *ClusterConfig) same(o *ClusterConfig) bool {
	a, b := *c, *o
	a.NATS, b.NATS = nil, nil
	return a.Advertise == b.Advertise && a.Bucket == b.Bucket && a.TTL == b.TTL && a.Node == b.Node && a.User == b.User &&
		a.Password == b.Password && a.Token == b.Token && a.Creds == b.Creds && a.Idle == b.Idle && slices.Equal(c.NATS, o.NATS)
}

// redacted hides the credentials.
func (c *ClusterConfig) redacted() ClusterConfig {
	d := c.clone()
	if d.Password != "" {
		d.Password = auth.Redacted
	}
	if d.Token != "" {
		d.Token = auth.Redacted
	}
	for i, u := range d.NATS {
		d.NATS[i] = auth.RedactURL(u)
	}
	return d
}

// nodeConfig is the cluster node's configuration.
func (c *Config) nodeConfig() cluster.Config {
	k := c.Cluster
	return cluster.Config{NATS: k.NATS, User: k.User, Password: k.Password, Token: k.Token, Creds: k.Creds,
		Advertise: k.Advertise, ID: k.Node, Bucket: k.Bucket, TTL: time.Duration(k.TTL), Idle: time.Duration(k.Idle),
		ReplacePublisher: c.Live.ReplacePublisher}
}

// checkCluster checks the cluster keys, when a NATS URL is set.
func (c *Config) checkCluster() error {
	if !c.Cluster.on() {
		if c.Cluster.Advertise != "" {
			return fmt.Errorf("cluster.advertise (-advertise) without cluster.nats (-nats)")
		}
		return nil
	}
	nc := c.nodeConfig()
	if err := nc.Validate(); err != nil {
		return fmt.Errorf("cluster: %s", strings.ReplaceAll(err.Error(), "\n", "; "))
	}
	return nil
}

// clusterReconnectURL is the tcUrl a drained node's publishers are sent
// to: the least loaded other node, in the app they publish in. Publishers
// of several apps cannot share one tcUrl (a ReconnectRequest names the
// app): they are sent back where they were ("").
func (s *Server) clusterReconnectURL(ctx context.Context) string {
	base := s.cluster.Drain(ctx)
	if base == "" {
		return ""
	}
	var apps []string
	for _, si := range s.hub.Sessions() {
		if si.Kind == rtmp.KindPublish.String() && si.Request != nil && !slices.Contains(apps, si.Key.App) {
			apps = append(apps, si.Key.App)
		}
	}
	switch len(apps) {
	case 0:
		return ""
	case 1:
		return base + "/" + apps[0]
	}
	s.log.Warn("ertmp: drain: publishers of several apps are sent back to the address they used", "apps", len(apps))
	return ""
}

// clusterView is GET /v1/cluster: the node's view, stream names
// redacted.
func (s *Server) clusterView() any {
	v := s.cluster.View()
	for i := range v.Streams {
		v.Streams[i].Name = s.Redact(v.Streams[i].Name)
	}
	for i := range v.Pulls {
		v.Pulls[i].Key.Name = s.Redact(v.Pulls[i].Key.Name)
	}
	return v
}

// clusterHooks are the node's hooks, none for a single node.
func (s *Server) clusterHooks() live.Hooks {
	if s.cluster == nil {
		return live.Hooks{}
	}
	return s.cluster.Hooks()
}

// canceled is a context that has ended.
func canceled() context.Context {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	return ctx
}
