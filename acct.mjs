export class Account { constructor(b){this.b=b} deposit(n){this.b+=n; return this.b} balance(){return this.b} }
