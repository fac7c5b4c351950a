// The signed-in user's token. Kept in sessionStorage and sent only in the
// Authorization header: long-lived user tokens never go into URLs. Media URLs
// carry short stream tokens scoped to one camera (api.js streamToken).
const KEY = 'vms.token';

export function userToken() {
    return sessionStorage.getItem(KEY) || '';
}

export function setUserToken(token) {
    if (token) sessionStorage.setItem(KEY, token.trim());
    else sessionStorage.removeItem(KEY);
}

// Claims of a JWT without verifying it: only for display and sizing hints;
// the server checks every request.
export function claims(token = userToken()) {
    try {
        const part = token.split('.')[1].replace(/-/g, '+').replace(/_/g, '/');
        return JSON.parse(atob(part + '='.repeat((4 - (part.length % 4)) % 4)));
    } catch {
        return {};
    }
}
