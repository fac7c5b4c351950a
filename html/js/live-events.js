// Live events from /api/events/live (docs/events.md, "Live push"): Server-Sent Events read with
// fetch(), so the user token goes in the Authorization header, never in a URL. After the server
// ends a subscription (every minute) or the network drops, it reconnects with Last-Event-ID and
// resumes without loss; the token is checked again at each reconnection.
import { passwordSession, refreshSession, userToken } from './session.js';

export class LiveEvents extends EventTarget {
    constructor(cameras) {
        super();
        this.cameras = cameras;
        this.lastId = '';
        this.stopped = false;
        this.backoff = 1000;
    }

    start() {
        this.run();
        return this;
    }

    stop() {
        this.stopped = true;
        if (this.abort) this.abort.abort();
    }

    state(s, status = 0) {
        this.dispatchEvent(new CustomEvent('state', { detail: { state: s, status } }));
    }

    async run() {
        while (!this.stopped) {
            this.abort = new AbortController();
            const token = userToken();
            const headers = { Accept: 'text/event-stream', Authorization: `Bearer ${token}` };
            if (this.lastId) headers['Last-Event-ID'] = this.lastId;
            try {
                const res = await fetch(`/api/events/live?cameras=${this.cameras.join(',')}`,
                    { headers, signal: this.abort.signal, cache: 'no-store' });
                // a password session's token renewed (now or by another request meanwhile): go on,
                // once: a renewed token refused too is not renewed again
                if (res.status === 401 && passwordSession() && token !== this.renewed
                    && (userToken() !== token || (await refreshSession()) === 'ok')) {
                    this.renewed = userToken();
                    continue;
                }
                if (res.status === 401 || res.status === 403) {
                    this.state('denied', res.status);
                    return;                         // a new token is needed: no retry loop
                }
                if (!res.ok || !res.body) throw new Error(`HTTP ${res.status}`);
                this.state('live');
                this.backoff = 1000;
                await this.read(res.body);
                this.state('reconnecting');        // the server ended it: come back at once
            } catch (e) {
                if (this.stopped) return;
                this.state('reconnecting');
                await new Promise((r) => setTimeout(r, this.backoff));
                this.backoff = Math.min(this.backoff * 2, 15000);
            }
        }
    }

    async read(body) {
        const reader = body.pipeThrough(new TextDecoderStream()).getReader();
        let buf = '';
        for (;;) {
            const { value, done } = await reader.read();
            if (done) return;
            buf += value;
            let end;
            while ((end = buf.search(/\r?\n\r?\n/)) >= 0) {
                const block = buf.slice(0, end);
                buf = buf.slice(end).replace(/^\r?\n\r?\n/, '');
                let id = null;
                const data = [];
                for (const line of block.split(/\r?\n/)) {
                    if (line.startsWith('id:')) id = line.slice(3).trim();
                    else if (line.startsWith('data:')) data.push(line.slice(5).replace(/^ /, ''));
                }
                if (id) this.lastId = id;
                if (!data.length) continue;        // a ping or a comment
                try {
                    this.dispatchEvent(new CustomEvent('message', { detail: JSON.parse(data.join('\n')) }));
                } catch {
                    // not JSON: not ours
                }
            }
        }
    }
}
