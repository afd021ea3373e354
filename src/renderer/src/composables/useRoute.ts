/** Hash routing: #/<screen>?key=value. */
import { ref } from 'vue';

function parse(): { screen: string; params: URLSearchParams } {
  const h = window.location.hash.replace(/^#\/?/, '');
  const [screen, query] = h.split('?');
  return { screen: screen || 'datasets', params: new URLSearchParams(query ?? '') };
}

const current = ref(parse());
window.addEventListener('hashchange', () => (current.value = parse()));

export function useRoute() {
  const go = (screen: string, params: Record<string, string> = {}) => {
    const q = new URLSearchParams(params).toString();
    window.location.hash = `#/${screen}${q ? `?${q}` : ''}`;
  };
  return { route: current, go };
}
