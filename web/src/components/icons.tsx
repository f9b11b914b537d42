// Small inline SVG icons; inline so they follow the text colour of either theme and cost no requests.
import type { SVGProps } from "react";

type IconProps = SVGProps<SVGSVGElement> & { size?: number };

function icon(path: React.ReactNode) {
    return function Icon({ size = 16, ...props }: IconProps) {
        return (
            <svg width={size} height={size} viewBox="0 0 16 16" fill="none" stroke="currentColor" strokeWidth="1.5" strokeLinecap="round" strokeLinejoin="round" aria-hidden="true" {...props}>
                {path}
            </svg>
        );
    };
}

export const PlayIcon = icon(<path d="M5 3.5v9l7-4.5z" fill="currentColor" stroke="none" />);
export const StopIcon = icon(<rect x="4" y="4" width="8" height="8" rx="1" fill="currentColor" stroke="none" />);
export const PlusIcon = icon(<path d="M8 3v10M3 8h10" />);
export const CloseIcon = icon(<path d="M4 4l8 8M12 4l-8 8" />);
export const RefreshIcon = icon(<path d="M13 8a5 5 0 1 1-1.5-3.6M13 2.5v3h-3" />);
export const LinkIcon = icon(<path d="M7 9a3 3 0 0 0 4.2 0l2-2a3 3 0 0 0-4.2-4.2l-.7.7M9 7a3 3 0 0 0-4.2 0l-2 2a3 3 0 0 0 4.2 4.2l.7-.7" />);
export const DownloadIcon = icon(<path d="M8 2.5v8M4.5 7 8 10.5 11.5 7M3 13.5h10" />);
export const TableIcon = icon(<><rect x="2.5" y="3" width="11" height="10" rx="1.5" /><path d="M2.5 6.5h11M6.5 6.5v6.5" /></>);
export const ColumnIcon = icon(<path d="M4 4.5h8M4 8h8M4 11.5h5" />);
export const SchemaIcon = icon(<><ellipse cx="8" cy="4" rx="5" ry="2" /><path d="M3 4v8c0 1.1 2.2 2 5 2s5-.9 5-2V4M3 8c0 1.1 2.2 2 5 2s5-.9 5-2" /></>);
export const SunIcon = icon(<><circle cx="8" cy="8" r="3" /><path d="M8 1.5v1.5M8 13v1.5M1.5 8H3M13 8h1.5M3.4 3.4l1 1M11.6 11.6l1 1M3.4 12.6l1-1M11.6 4.4l1-1" /></>);
export const MoonIcon = icon(<path d="M13.5 9.5A5.5 5.5 0 0 1 6.5 2.5a5.5 5.5 0 1 0 7 7z" />);
export const CopyIcon = icon(<><rect x="5.5" y="5.5" width="8" height="8" rx="1.5" /><path d="M10.5 5.5v-2a1 1 0 0 0-1-1h-6a1 1 0 0 0-1 1v6a1 1 0 0 0 1 1h2" /></>);
export const SearchIcon = icon(<><circle cx="7" cy="7" r="4.5" /><path d="M10.5 10.5 14 14" /></>);
export const ExpandIcon = icon(<path d="M9.5 2.5h4v4M6.5 13.5h-4v-4M13.5 2.5 9 7M2.5 13.5 7 9" />);
export const EditIcon = icon(<path d="M10.5 2.5l3 3L6 13H3v-3z" />);
export const TrashIcon = icon(<path d="M3 4.5h10M6.5 4.5V3h3v1.5M4.5 4.5l.7 9h5.6l.7-9" />);
export const KeyIcon = icon(<><circle cx="5.5" cy="10.5" r="2.5" /><path d="M7.3 8.7 13 3M11 5l1.5 1.5" /></>);
export const ViewIcon = icon(<><rect x="2.5" y="3" width="11" height="10" rx="1.5" strokeDasharray="2 1.5" /><path d="M2.5 6.5h11" /></>);
