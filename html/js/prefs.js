// Viewer preferences (volume, muted, quality, language) kept in localStorage.
// Never holds credentials: tokens live in sessionStorage (see session.js).
const KEY = 'vms.prefs';

function load() {
    try {
        const v = JSON.parse(localStorage.getItem(KEY) || '{}');
        return v && typeof v === 'object' ? v : {};
    } catch {
        return {};
    }
}

export const prefs = {
    get(name, fallback = undefined) {
        const v = load()[name];
        return v === undefined ? fallback : v;
    },
    set(name, value) {
        const v = load();
        v[name] = value;
        try {
            localStorage.setItem(KEY, JSON.stringify(v));
        } catch {
            // storage full or disabled: preferences are a convenience only
        }
    },
};
