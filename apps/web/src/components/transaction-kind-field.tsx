import { TransactionKind } from '@fusionflow/protocol';
import { useId } from 'react';
import { useTranslation } from 'react-i18next';

/** A filter on the kind of ledger transaction; `kinds` narrows the choice (the wallet shows only a viewer's kinds). */
export function TransactionKindField(props: {
  value: TransactionKind | '';
  onChange: (kind: TransactionKind | '') => void;
  kinds?: readonly TransactionKind[];
}) {
  const { t } = useTranslation();
  const id = useId();
  return (
    <div className="field">
      <label htmlFor={id}>{t('wallet.filterKind')}</label>
      <select id={id} value={props.value} onChange={(e) => props.onChange(e.target.value as TransactionKind | '')}>
        <option value="">{t('wallet.allKinds')}</option>
        {(props.kinds ?? TransactionKind.options).map((k) => (
          <option key={k} value={k}>
            {t(`wallet.kinds.${k}`)}
          </option>
        ))}
      </select>
    </div>
  );
}
