import { Link } from 'react-router-dom';

/** The path of a channel's permanent page. */
export const channelPath = (handle: string) => `/c/${encodeURIComponent(handle)}`;

/** A host's name, linking to their channel. */
export function ChannelLink({ handle, name, className }: { handle: string; name: string; className?: string }) {
  return (
    <Link to={channelPath(handle)} className={className} data-testid="channel-link">
      {name}
    </Link>
  );
}
