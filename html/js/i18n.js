// UI strings. Portuguese by default (the users' language); English on request
// (?lang=en, or the language picked in the page header, kept in localStorage).
import { prefs } from './prefs.js';

const STRINGS = {
    pt: {
        title_live: 'Ao vivo',
        title_playback: 'Gravações',
        low_latency: 'Baixa Latência',
        compat_mode: 'Modo Compatível',
        connecting: 'Conectando...',
        reconnecting: 'Reconectando...',
        limit_reached: 'Limite de {limit} streams atingido',
        server_down: 'Servidor de streaming indisponível',
        maintenance: 'Sistema em manutenção',
        camera_offline: 'Câmera offline',
        playback_failed: 'Falha na reprodução',
        retry: 'Tentar novamente',
        snapshot: 'Imagem de {age}',
        snapshot_none: 'Sem imagem',
        open_live: 'Abrir ao vivo',
        close_live: 'Fechar',
        not_authorized: 'Acesso negado',
        sign_in: 'Entrar',
        token_label: 'Token de acesso',
        sign_out: 'Sair',
        no_cameras: 'Nenhuma câmera disponível',
        streams_in_use: '{active} de {limit} streams ao vivo',
        volume: 'Volume',
        quality: 'Qualidade',
        quality_auto: 'Automática',
        no_recordings: 'Nenhuma gravação neste período',
        zoom_in: 'Aproximar',
        zoom_out: 'Afastar',
        day: 'Dia',
        load: 'Carregar',
        gap: 'Sem gravação',
        language: 'Idioma',
        title_roi: 'Regiões de interesse',
        roi_help: 'Arraste sobre a imagem para marcar uma área; clique numa área para selecioná-la.',
        roi_delete: 'Remover área',
        roi_clear: 'Limpar',
        roi_config: 'Configuração do vmsd (seção da câmera)',
        roi_waiting: 'Aguardando a imagem da câmera...',
        title_events: 'Eventos',
        open_camera: 'Abrir câmera',
        all_cameras: 'Todas as câmeras',
        label: 'Rótulo',
        min_score: 'Confiança mínima',
        apply: 'Aplicar',
        cameras: 'Câmeras',
        ai_cost: 'Custo de IA',
        more: 'Mais',
        no_events: 'Nenhum evento',
        event_open: 'em andamento',
        event_closed: 'encerrado',
        state_online: 'online',
        state_offline: 'offline',
        state_frozen: 'imagem congelada',
        state_reconnecting: 'reconectando',
        state_connecting: 'conectando',
        state_unknown: 'desconhecido',
        live_live: 'Ao vivo',
        live_connecting: 'Conectando...',
        live_reconnecting: 'Reconectando...',
        live_denied: 'Acesso negado',
        total: 'Total',
        admins_only: 'Somente administradores',
        unavailable: 'Indisponível',
        session_expired: 'Sua sessão expirou. Entre novamente.',
        session_invalid: 'Sua sessão não é mais válida. Entre novamente.',
        sign_in_again: 'Entrar novamente',
        camera_unknown: 'A câmera {id} não existe.',
        back_to_cameras: 'Ver as câmeras',
        too_many_requests: 'Muitas solicitações; aguarde um momento.',
        request_failed: 'Falha na solicitação ({status}).',
    },
    en: {
        title_live: 'Live',
        title_playback: 'Recordings',
        low_latency: 'Low Latency',
        compat_mode: 'Compatibility Mode',
        connecting: 'Connecting...',
        reconnecting: 'Reconnecting...',
        limit_reached: 'Limit of {limit} streams reached',
        server_down: 'Streaming server unavailable',
        maintenance: 'System under maintenance',
        camera_offline: 'Camera offline',
        playback_failed: 'Playback failed',
        retry: 'Retry',
        snapshot: 'Picture from {age}',
        snapshot_none: 'No picture',
        open_live: 'Open live',
        close_live: 'Close',
        not_authorized: 'Access denied',
        sign_in: 'Sign in',
        token_label: 'Access token',
        sign_out: 'Sign out',
        no_cameras: 'No cameras available',
        streams_in_use: '{active} of {limit} live streams',
        volume: 'Volume',
        quality: 'Quality',
        quality_auto: 'Auto',
        no_recordings: 'No recordings in this period',
        zoom_in: 'Zoom in',
        zoom_out: 'Zoom out',
        day: 'Day',
        load: 'Load',
        gap: 'Not recorded',
        language: 'Language',
        title_roi: 'Regions of interest',
        roi_help: 'Drag over the picture to mark an area; click an area to select it.',
        roi_delete: 'Remove area',
        roi_clear: 'Clear',
        roi_config: 'vmsd configuration (camera section)',
        roi_waiting: 'Waiting for the camera picture...',
        title_events: 'Events',
        open_camera: 'Open camera',
        all_cameras: 'All cameras',
        label: 'Label',
        min_score: 'Minimum confidence',
        apply: 'Apply',
        cameras: 'Cameras',
        ai_cost: 'AI cost',
        more: 'More',
        no_events: 'No events',
        event_open: 'ongoing',
        event_closed: 'ended',
        state_online: 'online',
        state_offline: 'offline',
        state_frozen: 'frozen picture',
        state_reconnecting: 'reconnecting',
        state_connecting: 'connecting',
        state_unknown: 'unknown',
        live_live: 'Live',
        live_connecting: 'Connecting...',
        live_reconnecting: 'Reconnecting...',
        live_denied: 'Access denied',
        total: 'Total',
        admins_only: 'Admins only',
        unavailable: 'Unavailable',
        session_expired: 'Your session has expired. Please sign in again.',
        session_invalid: 'Your session is no longer valid. Please sign in again.',
        sign_in_again: 'Sign in again',
        camera_unknown: 'Camera {id} does not exist.',
        back_to_cameras: 'See the cameras',
        too_many_requests: 'Too many requests; wait a moment.',
        request_failed: 'Request failed ({status}).',
    },
};

export const LANGUAGES = Object.keys(STRINGS);

export function lang() {
    const q = new URLSearchParams(location.search).get('lang');
    if (q && STRINGS[q]) return q;
    const saved = prefs.get('lang');
    return STRINGS[saved] ? saved : 'pt';
}

export function setLang(code) {
    if (STRINGS[code]) prefs.set('lang', code);
}

// t('limit_reached', {limit: 4}) -> 'Limite de 4 streams atingido'
export function t(key, vars = {}) {
    const table = STRINGS[lang()];
    const s = table[key] ?? STRINGS.pt[key] ?? key;
    return s.replace(/\{(\w+)\}/g, (_, k) => (k in vars ? String(vars[k]) : `{${k}}`));
}

// Fills every [data-i18n] element of root with its string.
export function translate(root = document) {
    document.documentElement.lang = lang() === 'pt' ? 'pt-BR' : lang();
    for (const el of root.querySelectorAll('[data-i18n]')) el.textContent = t(el.dataset.i18n);
    for (const el of root.querySelectorAll('[data-i18n-title]')) el.title = t(el.dataset.i18nTitle);
}
