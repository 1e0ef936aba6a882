// The upload half of the Inpaint source picker: the browser shows the chosen file from an object URL, so a large
// upload is never sent back to the page; the URL is revoked when the page lets go of the upload.

/** An object URL for the file chosen in an <input type=file>; null when the browser no longer has the file. */
export function fileUrl(input) {
    const file = input && input.files && input.files[0];
    return file ? URL.createObjectURL(file) : null;
}

/** Releases an object URL made by fileUrl (anything else is left alone). */
export function revokeUrl(url) {
    if (url && url.startsWith('blob:')) {
        URL.revokeObjectURL(url);
    }
}
