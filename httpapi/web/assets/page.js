// The ertmp status page: lists the server's streams from the JSON API
// (/v1/streams, /v1/sessions), refreshed every two seconds, and plays any
// of them with hls.js (HLS) or mpegts.js (HTTP-FLV, WebSocket-FLV). Before
// playing it checks the stream's codecs against MediaSource.isTypeSupported
// and the player library, and says what cannot be played.
'use strict';

(() => {
  const POLL_MS = 2000;
  const TOKEN_KEY = 'ertmp-token';

  // The player libraries, loaded on first use (versions pinned by
  // scripts/fetch-players; the paths name them).
  const LIBS = {
    hls: { src: 'assets/vendor/hls.js-1.7.4/hls.min.js', global: 'Hls' },
    mpegts: { src: 'assets/vendor/mpegts.js-1.8.2/mpegts.js', global: 'mpegts' },
  };

  // The ways to play a stream.
  const PLAYERS = {
    hls: { label: 'HLS', lib: 'hls' },
    flv: { label: 'HTTP-FLV', lib: 'mpegts' },
    wsflv: { label: 'WebSocket-FLV', lib: 'mpegts' },
  };

  // Codecs by the FourCC the API names them with: a readable name and a
  // MIME type for MediaSource.isTypeSupported. The profile in a codecs
  // string is a common one: browsers decide support by codec family.
  const CODECS = {
    avc1: { name: 'H.264', mse: 'video/mp4; codecs="avc1.64001f"' },
    hvc1: { name: 'HEVC', mse: 'video/mp4; codecs="hvc1.1.6.L93.B0"' },
    av01: { name: 'AV1', mse: 'video/mp4; codecs="av01.0.04M.08"' },
    vp09: { name: 'VP9', mse: 'video/mp4; codecs="vp09.00.31.08"' },
    vp08: { name: 'VP8', mse: 'video/webm; codecs="vp8"' },
    vvc1: { name: 'VVC', mse: 'video/mp4; codecs="vvc1.1.L51.CQA"' },
    mp4a: { name: 'AAC', mse: 'audio/mp4; codecs="mp4a.40.2"' },
    '.mp3': { name: 'MP3', mse: 'audio/mpeg' },
    Opus: { name: 'Opus', mse: 'audio/mp4; codecs="opus"' },
    fLaC: { name: 'FLAC', mse: 'audio/mp4; codecs="flac"' },
    'ac-3': { name: 'AC-3', mse: 'audio/mp4; codecs="ac-3"' },
    'ec-3': { name: 'E-AC-3', mse: 'audio/mp4; codecs="ec-3"' },
  };
  // What mpegts.js reads from FLV; HLS (fMP4) carries every codec above.
  const FLV_CODECS = new Set(['avc1', 'hvc1', 'av01', 'mp4a', '.mp3', 'Opus', 'fLaC']);
  // Codecs of legacy FLV tags; the others need ?enhanced=1 on HTTP-FLV.
  const LEGACY = new Set(['avc1', 'mp4a', '.mp3']);
  // What the API shows instead of a stream name that is a key.
  const REDACTED = '[redacted]';

  const $ = (id) => document.getElementById(id);
  const el = (tag, props, ...kids) => {
    const e = document.createElement(tag);
    Object.assign(e, props);
    e.append(...kids);
    return e;
  };

  const cards = new Map(); // "app/name" -> card
  let lastOK = 0;
  let pollTimer = 0;

  // ---- formatting

  const fmtRate = (bps) => {
    if (!bps) return '0';
    if (bps >= 1e6) return (bps / 1e6).toFixed(2) + ' Mb/s';
    return (bps / 1e3).toFixed(0) + ' kb/s';
  };
  const fmtDuration = (s) => {
    s = Math.floor(s || 0);
    const h = Math.floor(s / 3600), m = Math.floor(s / 60) % 60, sec = s % 60;
    if (h) return `${h} h ${String(m).padStart(2, '0')} min`;
    if (m) return `${m} min ${String(sec).padStart(2, '0')} s`;
    return `${sec} s`;
  };
  const codecName = (fourcc) => (CODECS[fourcc] ? `${CODECS[fourcc].name} (${fourcc})` : fourcc || '?');

  // ---- codec support

  const hasMSE = () => 'MediaSource' in window || 'ManagedMediaSource' in window;
  const isTypeSupported = (t) => {
    const MS = window.MediaSource || window.ManagedMediaSource;
    return !!MS && MS.isTypeSupported(t);
  };

  // browserProblem says why the browser cannot decode a codec, or ''.
  function browserProblem(fourcc) {
    const c = CODECS[fourcc];
    if (!c) return `${fourcc || 'this codec'} is not played by browsers`;
    if (!hasMSE()) return 'this browser has no Media Source Extensions';
    if (!isTypeSupported(c.mse)) return `${c.name} (${fourcc}) is not supported by this browser`;
    return '';
  }

  // playerProblem says why a player cannot play a codec in this browser,
  // or '': the browser's reason first, then the player library's.
  function playerProblem(player, fourcc) {
    const why = browserProblem(fourcc);
    if (!why && player !== 'hls' && !FLV_CODECS.has(fourcc)) {
      return `mpegts.js does not play ${CODECS[fourcc].name} from FLV: use HLS`;
    }
    return why;
  }

  // mainTracks returns the first video and audio track (track 0 first):
  // what an FLV viewer gets and what HLS plays by default.
  function mainTracks(tracks) {
    const pick = (type) => tracks.filter((t) => t.type === type).sort((a, b) => a.id - b.id)[0];
    return { video: pick('video'), audio: pick('audio') };
  }

  // plan decides how a player plays a stream: an error that stops it, or
  // the media to ask for with a warning.
  function plan(player, s) {
    if (`${s.app}/${s.name}`.includes(REDACTED)) {
      return { error: 'the stream name is a secret key, hidden by the server: play it with the key' };
    }
    const { video, audio } = mainTracks(s.tracks || []);
    if (!video && !audio) return { error: 'no tracks yet: is the publisher sending?' };
    const vp = video ? playerProblem(player, video.codec) : '';
    const ap = audio ? playerProblem(player, audio.codec) : '';
    if (video && vp && (!audio || ap)) return { error: `cannot play: ${[vp, ap].filter(Boolean).join('; ')}` };
    if (!video && ap) return { error: `cannot play: ${ap}` };
    const p = { hasVideo: !!video && !vp, hasAudio: !!audio && !ap, warning: '' };
    if (vp) p.warning = `${vp}: audio only`;
    if (ap) p.warning = `${ap}: video only`;
    p.enhanced = [video, audio].some((t) => t && !LEGACY.has(t.codec));
    return p;
  }

  // ---- URLs

  const streamPath = (s) => s.app.split('/').map(encodeURIComponent).join('/') + '/' + encodeURIComponent(s.name);
  // The page's ?key= (a play key) goes to the players.
  const pageKey = new URLSearchParams(location.search).get('key');

  function mediaURL(player, s, p) {
    const q = new URLSearchParams();
    if (pageKey) q.set('key', pageKey);
    let path;
    if (player === 'hls') {
      path = streamPath(s) + '/index.m3u8';
    } else {
      path = streamPath(s) + '.flv';
      if (p.enhanced) q.set('enhanced', '1');
    }
    const u = new URL(path, location.href);
    u.search = q.toString();
    if (player === 'wsflv') u.protocol = location.protocol === 'https:' ? 'wss:' : 'ws:';
    return u.toString();
  }

  // ---- libraries

  const loading = {};
  function loadLib(name) {
    const lib = LIBS[name];
    if (window[lib.global]) return Promise.resolve(window[lib.global]);
    loading[name] ??= new Promise((resolve, reject) => {
      const s = el('script', { src: lib.src, async: true });
      s.onload = () => (window[lib.global] ? resolve(window[lib.global]) : reject(new Error(`${lib.src} defines no ${lib.global}`)));
      s.onerror = () => {
        delete loading[name];
        reject(new Error(`cannot load ${lib.src}`));
      };
      document.head.append(s);
    });
    return loading[name];
  }

  // ---- a stream's card

  function newCard(key) {
    const c = { key, info: null, player: null, kind: '' };
    c.title = el('h2', { textContent: key });
    c.state = el('span', { className: 'state' });
    c.stats = el('dl', { className: 'stats' });
    c.tracks = el('ul', { className: 'tracks' });
    c.support = el('div', { className: 'support' });
    c.video = el('video', { muted: true, playsInline: true, controls: true, hidden: true });
    c.video.dataset.stream = key;
    c.video.dataset.state = 'idle';
    c.playerState = el('p', { className: 'player-state' });
    c.buttons = {};
    const controls = el('div', { className: 'controls' });
    for (const [kind, p] of Object.entries(PLAYERS)) {
      const b = el('button', { type: 'button', textContent: '▶ ' + p.label });
      b.dataset.play = kind;
      b.setAttribute('aria-pressed', 'false');
      b.addEventListener('click', () => start(c, kind));
      c.buttons[kind] = b;
      controls.append(b);
    }
    const stop = el('button', { type: 'button', textContent: '■ Stop' });
    stop.dataset.play = 'stop';
    stop.addEventListener('click', () => {
      halt(c);
      setPlayerState(c, 'idle', '');
    });
    controls.append(stop);
    c.viewers = el('details', { className: 'viewers' });
    c.root = el('section', { className: 'stream' },
      el('header', {}, c.title, c.state), c.stats, c.tracks, c.support,
      el('div', { className: 'player' }, controls, c.video, c.playerState), c.viewers);
    c.root.dataset.stream = key;

    const v = c.video;
    v.addEventListener('playing', () => setPlayerState(c, 'playing', `playing via ${PLAYERS[c.kind]?.label}`));
    v.addEventListener('waiting', () => c.kind && setPlayerState(c, 'buffering', `buffering (${PLAYERS[c.kind]?.label})`));
    v.addEventListener('timeupdate', () => {
      if (v.dataset.state === 'playing') {
        c.playerState.textContent = `playing via ${PLAYERS[c.kind]?.label} · ${v.currentTime.toFixed(1)} s`;
      }
    });
    v.addEventListener('error', () => {
      const e = v.error;
      if (c.kind && e) setPlayerState(c, 'error', `media error ${e.code}: ${e.message || 'the browser could not decode the stream'}`);
    });
    return c;
  }

  function setPlayerState(c, state, text) {
    c.video.dataset.state = state;
    c.playerState.textContent = text;
    c.playerState.classList.toggle('error', state === 'error');
  }

  function dd(dl, label, value) {
    dl.append(el('dt', { textContent: label }), el('dd', { textContent: value }));
  }

  function updateCard(c, s, viewers) {
    c.info = s;
    c.state.className = 'state ' + (s.publishing ? 'live' : 'waiting');
    c.state.textContent = s.publishing ? 'live' : 'waiting for the publisher';

    c.stats.replaceChildren();
    if (s.publishing) dd(c.stats, 'uptime', fmtDuration(s.uptime));
    dd(c.stats, 'bitrate', `in ${fmtRate(s.bitrate_in)}, out ${fmtRate(s.bitrate_out)}`);
    const protos = Object.entries(s.protocols || {}).map(([p, n]) => `${n} ${p}`).join(', ');
    dd(c.stats, 'players', String(s.subscribers) + (protos ? ` (${protos})` : ''));
    if (s.publisher) {
      dd(c.stats, 'publisher', [s.publisher.protocol, s.publisher.remote_addr, s.publisher.flash_ver].filter(Boolean).join(' · '));
    }
    if (s.dropped) dd(c.stats, 'dropped', `${s.dropped} packets`);

    // Tracks, each with what this browser makes of its codec; a line per
    // codec the browser cannot play.
    c.tracks.replaceChildren();
    const problems = new Set();
    for (const t of s.tracks || []) {
      const why = browserProblem(t.codec);
      const mark = el('span', { className: why ? 'bad' : 'ok', textContent: why ? '✗' : '✓', title: why || 'this browser plays it' });
      c.tracks.append(el('li', {}, `${t.type} ${t.id}: ${codecName(t.codec)} `, mark));
      if (why) problems.add(why);
    }
    c.support.replaceChildren(...[...problems].map((p) => el('p', { textContent: p })));

    c.viewers.replaceChildren(el('summary', { textContent: `${viewers.length} player${viewers.length === 1 ? '' : 's'}` }));
    if (viewers.length) {
      const rows = viewers.map((v) => el('tr', {},
        el('td', { textContent: v.protocol }), el('td', { textContent: v.remote_addr || '' }),
        el('td', { textContent: fmtDuration(v.uptime) }), el('td', { textContent: fmtRate(v.bitrate) })));
      c.viewers.append(el('table', {},
        el('tr', {}, ...['protocol', 'address', 'for', 'bitrate'].map((h) => el('th', { textContent: h }))), ...rows));
    }
  }

  // ---- playing

  function halt(c) {
    const p = c.player;
    c.player = null;
    c.kind = '';
    for (const b of Object.values(c.buttons)) b.setAttribute('aria-pressed', 'false');
    if (p) {
      try {
        p.destroy();
      } catch (e) {
        console.warn('ertmp: destroying the player:', e);
      }
    }
    c.video.pause();
    c.video.removeAttribute('src');
    c.video.load();
    c.video.hidden = true;
  }

  async function start(c, kind) {
    halt(c);
    const s = c.info;
    const p = plan(kind, s);
    if (p.error) {
      setPlayerState(c, 'error', `${PLAYERS[kind].label}: ${p.error}`);
      return;
    }
    c.kind = kind;
    c.buttons[kind].setAttribute('aria-pressed', 'true');
    c.video.hidden = false;
    setPlayerState(c, 'loading', `loading ${PLAYERS[kind].label}…` + (p.warning ? ` (${p.warning})` : ''));
    const url = mediaURL(kind, s, p);
    let lib;
    try {
      lib = await loadLib(PLAYERS[kind].lib);
    } catch (e) {
      setPlayerState(c, 'error', e.message);
      return;
    }
    if (c.kind !== kind) return; // stopped or switched while loading
    const fail = (text) => {
      if (c.kind !== kind) return;
      setPlayerState(c, 'error', `${PLAYERS[kind].label}: ${text}`);
    };
    const play = () => c.video.play().catch((e) => fail(`play(): ${e.message}`));
    if (kind === 'hls') {
      if (lib.isSupported()) {
        const h = new lib({ lowLatencyMode: true, backBufferLength: 30 });
        c.player = h;
        h.on(lib.Events.ERROR, (_, d) => {
          if (d.fatal) fail(`${d.type} ${d.details}${d.response?.code ? ' (HTTP ' + d.response.code + ')' : ''}${d.reason ? ': ' + d.reason : ''}`);
        });
        h.on(lib.Events.MANIFEST_PARSED, play);
        h.loadSource(url);
        h.attachMedia(c.video);
      } else if (c.video.canPlayType('application/vnd.apple.mpegurl')) {
        c.video.src = url; // native HLS (Safari)
        play();
      } else {
        fail('neither hls.js nor this browser plays HLS');
      }
      return;
    }
    if (!lib.isSupported() || !lib.getFeatureList().mseLivePlayback) {
      fail('mpegts.js cannot play live streams in this browser');
      return;
    }
    const m = lib.createPlayer(
      { type: 'flv', isLive: true, url, hasVideo: p.hasVideo, hasAudio: p.hasAudio },
      { enableStashBuffer: false, liveBufferLatencyChasing: true, lazyLoad: false });
    c.player = m;
    m.on(lib.Events.ERROR, (type, detail, info) => {
      const msg = typeof info === 'string' ? info : info?.msg;
      const text = `${type} ${detail}${info?.code > 0 ? ' (HTTP ' + info.code + ')' : ''}${msg ? ': ' + msg : ''}`;
      if (type === lib.ErrorTypes.MEDIA_ERROR && detail === lib.ErrorDetails.MEDIA_FORMAT_ERROR) {
        // The demuxer skipped a tag it does not know (such as an Enhanced
        // RTMP Metadata packet) and goes on.
        console.warn('ertmp: mpegts.js skipped a tag:', text);
        return;
      }
      fail(text);
    });
    m.attachMediaElement(c.video);
    m.load();
    play();
  }

  // ---- polling

  function token() {
    return sessionStorage.getItem(TOKEN_KEY) || '';
  }

  class AuthError extends Error {}

  async function getJSON(path) {
    const headers = {};
    if (token()) headers.Authorization = 'Bearer ' + token();
    const r = await fetch(path, { headers, cache: 'no-store' });
    if (r.status === 401) throw new AuthError('the API wants a bearer token');
    if (!r.ok) throw new Error(`${path}: HTTP ${r.status}`);
    return r.json();
  }

  async function poll() {
    try {
      const [st, ss] = await Promise.all([getJSON('v1/streams'), getJSON('v1/sessions')]);
      lastOK = Date.now();
      $('auth').hidden = true;
      $('banner').hidden = true;
      render(st.streams || [], ss.sessions || []);
    } catch (e) {
      if (e instanceof AuthError) {
        $('auth').hidden = false;
        showBanner(token() ? 'The token was refused.' : 'The API wants a bearer token.');
      } else {
        showBanner(`Cannot reach the server: ${e.message}` + (lastOK ? ` (last update ${new Date(lastOK).toLocaleTimeString()})` : ''));
      }
    } finally {
      clearTimeout(pollTimer);
      pollTimer = setTimeout(poll, POLL_MS);
    }
  }

  function showBanner(text) {
    $('banner').textContent = text;
    $('banner').hidden = false;
  }

  function render(streams, sessions) {
    const viewers = new Map();
    for (const s of sessions) {
      if (s.kind !== 'play') continue;
      const k = `${s.key.app}/${s.key.name}`;
      if (!viewers.has(k)) viewers.set(k, []);
      viewers.get(k).push(s);
    }
    const seen = new Set();
    const main = $('streams');
    let at = 0;
    for (const s of streams) {
      const key = `${s.app}/${s.name}`;
      seen.add(key);
      let c = cards.get(key);
      if (!c) {
        c = newCard(key);
        cards.set(key, c);
      }
      updateCard(c, s, viewers.get(key) || []);
      // The API's order; a card only moves when it must (its video plays on).
      if (main.children[at] !== c.root) main.insertBefore(c.root, main.children[at] || null);
      at++;
    }
    for (const [key, c] of cards) {
      if (seen.has(key)) continue;
      if (c.player) {
        c.state.className = 'state ended';
        c.state.textContent = 'ended';
      } else {
        c.root.remove();
        cards.delete(key);
      }
    }
    const players = streams.reduce((n, s) => n + (s.subscribers || 0), 0);
    $('summary').textContent = `${streams.length} stream${streams.length === 1 ? '' : 's'}, ${players} player${players === 1 ? '' : 's'} · updated ${new Date().toLocaleTimeString()}`;
    $('empty').hidden = streams.length > 0;
  }

  // What this browser decodes, for the header line.
  function describeBrowser() {
    if (!hasMSE()) return 'This browser has no Media Source Extensions: it plays no stream here.';
    const yes = [], no = [];
    for (const [fourcc, c] of Object.entries(CODECS)) (isTypeSupported(c.mse) ? yes : no).push(c.name);
    return `This browser plays ${yes.join(', ') || 'none of the codecs'}` + (no.length ? `; not ${no.join(', ')}.` : '.');
  }

  function init() {
    $('host').textContent = location.hostname;
    $('browser').textContent = describeBrowser();
    $('auth').addEventListener('submit', (e) => {
      e.preventDefault();
      sessionStorage.setItem(TOKEN_KEY, $('token').value.trim());
      $('token').value = '';
      $('auth').hidden = true;
      clearTimeout(pollTimer);
      poll();
    });
    poll();
  }

  init();
})();
