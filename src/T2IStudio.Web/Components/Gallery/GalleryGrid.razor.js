// Reports how many tile columns fit the gallery grid's width, now and whenever it changes (GalleryGrid.SetColumns).
export function observeColumns(element, dotNet, tileWidth) {
    let last = 0;
    const report = width => {
        const columns = Math.max(1, Math.floor(width / tileWidth));
        if (columns !== last) {
            last = columns;
            dotNet.invokeMethodAsync('SetColumns', columns, Math.floor(width));
        }
    };
    const observer = new ResizeObserver(entries => report(entries[0].contentRect.width));
    observer.observe(element);
    report(element.getBoundingClientRect().width);
    return { dispose: () => observer.disconnect() };
}
