import { useTranslation } from 'react-i18next';

/** "Paid · 50 tokens": a broadcast (or its replay) that needs a ticket; nothing for a free one. */
export function PaidBadge({ price }: { price: number | null }) {
  const { t } = useTranslation();
  if (!price) return null;
  return (
    <span className="badge badge-paid" data-testid="paid-badge">
      {t('room.paidBadge', { count: price })}
    </span>
  );
}
