// A loading indicator for enhanced navigation and form posts: the page keeps its old content while
// Blazor fetches the next one, so say that something is happening. Without JavaScript the browser
// loads pages itself and shows its own indicator.
const busyAfterMs = 150;
let timer = 0;

function busy() {
    clearTimeout(timer);
    timer = setTimeout(() => document.documentElement.classList.add('is-loading'), busyAfterMs);
}

function idle() {
    clearTimeout(timer);
    document.documentElement.classList.remove('is-loading');
}

document.addEventListener('click', event => {
    const link = event.target instanceof Element ? event.target.closest('a[href]') : null;
    if (link && link.origin === location.origin && !link.hasAttribute('download') && link.target === '' && !event.defaultPrevented
        && event.button === 0 && !event.ctrlKey && !event.metaKey && !event.shiftKey) {
        busy();
    }
});
document.addEventListener('submit', busy);
window.addEventListener('pageshow', idle);
window.Blazor?.addEventListener('enhancedload', () => {
    idle();
    // Enhanced navigation swaps the page in place: move focus to the new page's heading, as a
    // full page load would start reading from the top.
    const target = document.querySelector('[role="alert"], main h1');
    if (target) {
        if (!target.hasAttribute('tabindex')) target.setAttribute('tabindex', '-1');
        target.focus({ preventScroll: false });
    }
});
