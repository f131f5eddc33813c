/** The embedded ledger behind the LedgerPort: the conformance suite and the invariants. */
import { EmbeddedLedgerPort } from '../../../src/scheduler/admission/embedded-port.js';
import { Ledger, type LedgerLimits } from '../../../src/scheduler/admission/ledger.js';
import { ledgerConformance } from '../cluster/ledger-conformance.js';
import { ledgerProperties } from '../cluster/ledger-properties.js';

const make = async (limits: LedgerLimits) => ({ port: new EmbeddedLedgerPort(new Ledger(limits)), cleanup: async () => {} });

ledgerConformance('embedded', make);
ledgerProperties('embedded', make, 200);
